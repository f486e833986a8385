// Experiment (loaded with `node --import`, product code untouched): smtp-server
// waits a hard-coded 100 ms before the 220 greeting to catch early talkers.
// With one connection per message that caps each session at < 10 msg/s.
// This removes the pause (the client still may not talk before the greeting:
// smtp-server answers "You talk too soon" until the session is ready).
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

SMTPConnection.prototype.init = function init() {
  this._setListeners(() => {
    if (
      this._server.options.maxClients &&
      this._server.connections.size > this._server.options.maxClients
    ) {
      return this.send(
        421,
        `${this.name} Too many connected clients, try again in a moment`,
        false,
      );
    }
    this.connectionReady();
  });
};

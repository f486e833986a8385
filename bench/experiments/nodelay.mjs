// Experiment (loaded with `node --import`, product code untouched): every
// outbound TCP socket with TCP_NODELAY, as nodemailer's SMTPConnection does
// not set it. Without it the final "\r\n.\r\n" of a message, written after the
// body, waits for the peer's delayed ACK (Nagle): ~40 ms per delivery on Linux.
import net from 'node:net';

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  this.setNoDelay(true);
  return connect.apply(this, args);
};

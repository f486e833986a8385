import { mkdir, open, readdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defaultProtocolLogFields } from '@mailbus/config';
import type { ProtocolLogConfig, ProtocolLogField } from '@mailbus/config';
import { formatDirectives, formatLine } from './format-line.js';
import type { LineContext } from './format-line.js';
import { extendIndex, logFileName } from './log-file-name.js';
import type { RolloverPeriod } from './log-file-name.js';
import type { ProtocolLogEntry } from './protocol-log-entry.js';
import { SOFTWARE } from './version.js';

export interface ProtocolLogWriterOptions {
  /** Root directory; files go to `<directory>/<virtualServer>/` (`…/<node>/` with `node`). */
  directory: string;
  /**
   * The process writing: a sub-directory of the virtual server's, so that
   * processes on one host sharing a config never write one file.
   */
  node?: string;
  /** The virtual server: the sub-directory and `s-sitename`. */
  virtualServer: string;
  /** `s-computername`; default the host name. */
  computerName?: string;
  /** Rollover period; default `daily`. */
  period?: RolloverPeriod;
  /** With `period: 'size'`: roll to the next `extendN.log` before a file would pass this size. */
  maxSizeMB?: number;
  /** Name and roll files by local time instead of UTC (line times stay UTC). */
  localTimeForNaming?: boolean;
  /** Fields, in order; default the IIS SMTP default set. */
  fields?: readonly ProtocolLogField[];
  /** `#Software` directive; default `mailbus <version>`. */
  software?: string;
  /** Clock, ms since the epoch; default `Date.now`. */
  now?: () => number;
  /**
   * Called when the log cannot be written (disk full, directory gone); the lines of that
   * batch are counted in `droppedLines`. Default: one process warning per run of failures.
   */
  onError?: (error: Error) => void;
  /** Lines waiting for the disk beyond this many bytes are dropped (counted); default 32 MiB. */
  maxBufferedBytes?: number;
}

export interface ProtocolLogWriterStats {
  /** Lines not written: buffer full, written after close, or lost to an I/O error. */
  droppedLines: number;
  /** Bytes formatted but not yet on disk. */
  bufferedBytes: number;
  /** The file being appended to, if one is open. */
  currentFile: string | undefined;
}

interface Pending {
  time: number;
  line: string;
  fields: readonly ProtocolLogField[];
}

interface OpenFile {
  name: string;
  handle: FileHandle;
  size: number;
  /** The fields whose directives this writer last wrote to the file; undefined: none yet. */
  fields: readonly ProtocolLogField[] | undefined;
}

const MB = 1024 * 1024;

/**
 * Appends W3C Extended Log File lines (the IIS/Exchange SMTP dialect) for one virtual server,
 * rolling files over by period or size. `write()` only formats and buffers: files are written
 * asynchronously in batches, one open handle at a time, so logging never waits on the disk.
 * `close()` writes every buffered line. Use one writer per virtual server per process.
 */
export class ProtocolLogWriter {
  /** `<directory>/<virtualServer>`. */
  readonly directory: string;
  private readonly period: RolloverPeriod;
  private readonly maxBytes: number;
  private readonly localTime: boolean;
  private readonly software: string;
  private readonly now: () => number;
  private readonly onError: (error: Error) => void;
  private readonly maxBufferedBytes: number;
  private readonly ctx: LineContext;
  private fields: readonly ProtocolLogField[];

  private queue: Pending[] = [];
  private queuedBytes = 0;
  private running = false;
  private idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private file: OpenFile | undefined;
  private lastTime = Number.NEGATIVE_INFINITY;
  private sizeIndex: number | undefined;
  private dirReady = false;
  private dropped = 0;
  private failing = false;

  constructor(options: ProtocolLogWriterOptions) {
    this.directory = join(options.directory, options.virtualServer, options.node ?? '');
    this.period = options.period ?? 'daily';
    if (this.period === 'size' && !(options.maxSizeMB !== undefined && options.maxSizeMB > 0)) {
      throw new RangeError('protocol log: period "size" needs a positive maxSizeMB');
    }
    this.maxBytes = (options.maxSizeMB ?? 0) * MB;
    this.localTime = options.localTimeForNaming ?? false;
    this.software = options.software ?? SOFTWARE;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? defaultOnError;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * MB;
    this.ctx = {
      sitename: options.virtualServer,
      computerName: options.computerName ?? hostname(),
    };
    this.fields = checkFields(options.fields ?? defaultProtocolLogFields);
  }

  /**
   * The writer a virtual server's `protocolLog` config asks for, or undefined when it is not
   * enabled. `directory` is used as given: resolve it (against the config file) first.
   */
  static fromConfig(
    virtualServer: string,
    config: ProtocolLogConfig,
    extra: Pick<ProtocolLogWriterOptions, 'computerName' | 'now' | 'onError' | 'software'> = {},
  ): ProtocolLogWriter | undefined {
    if (!config.enabled) return undefined;
    return new ProtocolLogWriter({
      ...extra,
      directory: config.directory,
      virtualServer,
      period: config.period,
      ...(config.maxSizeMB === undefined ? {} : { maxSizeMB: config.maxSizeMB }),
      localTimeForNaming: config.localTimeForNaming,
      fields: config.fields,
    });
  }

  /** Buffers one line; never blocks and never throws for I/O. Dropped (counted) after `close()`. */
  write(entry: ProtocolLogEntry): void {
    if (this.closing) {
      this.dropped++;
      return;
    }
    const time = entry.time ?? this.now();
    const line = formatLine(this.fields, entry, time, this.ctx) + '\r\n';
    if (this.queuedBytes + line.length > this.maxBufferedBytes) {
      this.dropped++;
      return;
    }
    this.queue.push({ time, line, fields: this.fields });
    this.queuedBytes += line.length;
    this.kick();
  }

  /** Changes the fields of the lines written from now on; the directives are written again. */
  setFields(fields: readonly ProtocolLogField[]): void {
    this.fields = checkFields(fields);
  }

  /** Resolves once every line written so far is on disk (or reported lost). */
  flush(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes every buffered line and closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      const file = this.file;
      this.file = undefined;
      if (file) await file.handle.close().catch((err: unknown) => this.report(err));
    })();
    return this.closing;
  }

  get stats(): ProtocolLogWriterStats {
    return {
      droppedLines: this.dropped,
      bufferedBytes: this.queuedBytes,
      currentFile: this.file ? join(this.directory, this.file.name) : undefined,
    };
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Let the lines of this tick join the batch.
    setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        this.queuedBytes = 0;
        try {
          await this.writeBatch(batch);
        } catch (err) {
          // writeBatch handles I/O errors itself; this is the last guard for the unexpected,
          // so a log fault can never become an unhandled rejection in the SMTP process.
          this.report(err);
          await this.dropFile();
        }
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.kick();
      else {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    let chunk = '';
    let lines = 0;
    const put = async (): Promise<void> => {
      if (chunk === '' || !this.file) return;
      const data = chunk;
      const count = lines;
      chunk = '';
      lines = 0;
      try {
        await this.file.handle.write(data);
        this.failing = false;
      } catch (err) {
        this.dropped += count;
        this.report(err);
        await this.dropFile();
      }
    };
    try {
      for (const item of batch) {
        // Never roll back to an earlier file for a line that arrives late.
        const time = Math.max(item.time, this.lastTime);
        this.lastTime = time;
        let name = await this.targetName(time);
        if (this.file?.name !== name) {
          await put();
          await this.openFile(name);
        }
        let file = this.file as OpenFile | undefined;
        if (!file) {
          this.dropped++;
          continue;
        }
        let head =
          file.fields === item.fields ? '' : formatDirectives(this.software, item.fields, time);
        let bytes = Buffer.byteLength(head) + Buffer.byteLength(item.line);
        if (this.period === 'size' && file.size > 0 && file.size + bytes > this.maxBytes) {
          await put();
          this.sizeIndex = (this.sizeIndex ?? 1) + 1;
          name = await this.targetName(time);
          await this.openFile(name);
          file = this.file as OpenFile | undefined;
          if (!file) {
            this.dropped++;
            continue;
          }
          head = formatDirectives(this.software, item.fields, time);
          bytes = Buffer.byteLength(head) + Buffer.byteLength(item.line);
        }
        file.fields = item.fields;
        file.size += bytes;
        chunk += head + item.line;
        lines++;
      }
    } finally {
      await put();
    }
  }

  private async targetName(time: number): Promise<string> {
    if (this.period === 'size' && this.sizeIndex === undefined) {
      this.sizeIndex = await this.highestExtendIndex();
    }
    return logFileName(this.period, time, this.localTime, this.sizeIndex);
  }

  private async highestExtendIndex(): Promise<number> {
    let highest = 1;
    try {
      await this.ensureDir();
      for (const name of await readdir(this.directory)) {
        const n = extendIndex(name);
        if (n !== undefined && n > highest) highest = n;
      }
    } catch (err) {
      this.report(err);
    }
    return highest;
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return;
    await mkdir(this.directory, { recursive: true });
    this.dirReady = true;
  }

  private async openFile(name: string): Promise<void> {
    await this.dropFile();
    try {
      await this.ensureDir();
      const path = join(this.directory, name);
      const handle = await open(path, 'a').catch(async (err: unknown) => {
        // The directory was removed under us: make it again, once.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.dirReady = false;
        await this.ensureDir();
        return open(path, 'a');
      });
      const { size } = await handle.stat();
      this.file = { name, handle, size, fields: undefined };
    } catch (err) {
      this.dirReady = false;
      this.report(err);
    }
  }

  private async dropFile(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    if (file) await file.handle.close().catch(() => undefined);
  }

  private report(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    try {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // A failing error handler must not stop the log.
    }
  }
}

function checkFields(fields: readonly ProtocolLogField[]): readonly ProtocolLogField[] {
  if (fields.length === 0) throw new RangeError('protocol log: at least one field is needed');
  return Object.freeze([...fields]);
}

function defaultOnError(error: Error): void {
  process.emitWarning(`protocol log not written: ${error.message}`, 'MailbusProtocolLogWarning');
}

import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { LayerError } from './errors.js';

/** Bytes per slot: what one message to a hash thread carries. */
const SLOT = 1 << 20;
/** Slots per digest: copies waiting for (or being hashed by) the thread; memory stays at SLOTS × SLOT. */
const SLOTS = 4;
/** Hash threads kept for the process: the diff ID and the blob digest each get their own. */
const LANES = 2;

// Runs in a worker (eval'd, CommonJS): one running sha256 (and crc32) per session, fed from shared slots.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const zlib = require('node:zlib');
const sessions = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    sessions.set(m.id, { hash: createHash('sha256'), crc: m.crc ? 0 : -1, slots: m.slots.map((s) => new Uint8Array(s)) });
  } else if (m.op === 'data') {
    const s = sessions.get(m.id);
    const view = s.slots[m.slot].subarray(0, m.len);
    s.hash.update(view);
    if (s.crc >= 0) s.crc = zlib.crc32(view, s.crc);
    parentPort.postMessage({ id: m.id, op: 'ack', slot: m.slot });
  } else if (m.op === 'end') {
    const s = sessions.get(m.id);
    sessions.delete(m.id);
    parentPort.postMessage({ id: m.id, op: 'digest', hex: s.hash.digest('hex'), crc: s.crc >>> 0 });
  } else if (m.op === 'drop') {
    sessions.delete(m.id);
  }
});
`;

interface Reply {
  id: number;
  op: 'ack' | 'digest';
  slot?: number;
  hex?: string;
  crc?: number;
}

class Lane {
  readonly worker: Worker;
  readonly sessions = new Map<number, (r: Reply | Error) => void>();
  broken: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (r: Reply) => this.sessions.get(r.id)?.(r));
    const fail = (err: Error) => {
      this.broken = err;
      const i = lanes.indexOf(this);
      if (i >= 0) lanes.splice(i, 1);
      for (const cb of this.sessions.values()) cb(err);
      this.sessions.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (!this.broken) fail(new LayerError('TSB_LAYER_HASH', `the hash thread exited (code ${code})`));
    });
  }

  private waiters = 0;

  open(id: number, cb: (r: Reply | Error) => void): void {
    this.sessions.set(id, cb);
  }

  close(id: number): void {
    this.sessions.delete(id);
  }

  /** Keeps the process alive only while someone awaits this thread (a stream left unended never holds it). */
  async awaiting<T>(p: Promise<T>): Promise<T> {
    if (this.waiters++ === 0) this.worker.ref();
    try {
      return await p;
    } finally {
      if (--this.waiters === 0) this.worker.unref();
    }
  }
}

const lanes: Lane[] = [];
let nextLane = 0;
let nextId = 1;

function lane(): Lane {
  if (lanes.length < LANES) {
    const l = new Lane();
    lanes.push(l);
    return l;
  }
  const l = lanes[nextLane++ % lanes.length] as Lane;
  return l;
}

/**
 * A running sha256 (and optionally the gzip crc32) of a byte stream, computed on a
 * worker thread so that the main thread only copies: bytes are gathered in shared
 * 1 MiB slots and a full slot is handed over (no further copy). A stream that ends
 * within its first slot is hashed right here, and never starts a thread.
 */
export class OffloadedDigest {
  private readonly slots: Buffer[] = [];
  private readonly busy: boolean[] = [];
  private current = 0;
  private fill = 0;
  private lane: Lane | undefined;
  private readonly id = nextId++;
  private waiting: (() => void) | undefined;
  private result: ((r: Reply) => void) | undefined;
  private error: Error | undefined;

  constructor(private readonly crc: boolean) {}

  /** Adds `data`; returns a promise only when it has to wait for a free slot. */
  update(data: Buffer): Promise<void> | undefined {
    if (this.error) throw this.error;
    let off = 0;
    while (off < data.length) {
      const slot = this.slot(this.current);
      const n = Math.min(SLOT - this.fill, data.length - off);
      data.copy(slot, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === SLOT) {
        this.send();
        if (this.busy[this.current]) {
          const rest = data.subarray(off);
          return this.free().then(() => this.update(rest));
        }
      }
    }
    return undefined;
  }

  /** The hex sha256 and the crc32 (0 unless asked for) of everything added. */
  async digest(): Promise<{ hex: string; crc: number }> {
    if (this.error) throw this.error;
    if (!this.lane) {
      const view = (this.slots[0] ?? Buffer.alloc(0)).subarray(0, this.fill);
      return {
        hex: createHash('sha256').update(view).digest('hex'),
        crc: this.crc ? zlib.crc32(view) >>> 0 : 0,
      };
    }
    if (this.fill) this.send();
    const lane = this.lane;
    const done = new Promise<Reply>((resolve) => {
      this.result = resolve;
    });
    lane.worker.postMessage({ op: 'end', id: this.id });
    try {
      const r = await lane.awaiting(done);
      if (this.error) throw this.error;
      return { hex: r.hex as string, crc: r.crc as number };
    } finally {
      lane.close(this.id);
    }
  }

  /** Forgets the stream (after a failure elsewhere): the thread drops its state. */
  dispose(): void {
    if (!this.lane || this.error) return;
    this.lane.worker.postMessage({ op: 'drop', id: this.id });
    this.lane.close(this.id);
    this.error = new LayerError('TSB_LAYER_HASH', 'the digest was disposed');
  }

  private slot(i: number): Buffer {
    let s = this.slots[i];
    if (!s) {
      s = Buffer.from(new SharedArrayBuffer(SLOT));
      this.slots[i] = s;
      this.busy[i] = false;
    }
    return s;
  }

  private send(): void {
    if (!this.lane) this.start();
    const lane = this.lane as Lane;
    if (lane.broken) throw lane.broken;
    this.busy[this.current] = true;
    lane.worker.postMessage({ op: 'data', id: this.id, slot: this.current, len: this.fill });
    this.current = (this.current + 1) % SLOTS;
    this.fill = 0;
  }

  private start(): void {
    const l = lane();
    this.lane = l;
    for (let i = 0; i < SLOTS; i++) this.slot(i);
    l.open(this.id, (r) => {
      if (r instanceof Error) {
        this.error = r;
        this.waiting?.();
        this.result?.({ id: this.id, op: 'digest' });
        return;
      }
      if (r.op === 'ack') {
        this.busy[r.slot as number] = false;
        if (r.slot === this.current) this.waiting?.();
      } else this.result?.(r);
    });
    l.worker.postMessage({
      op: 'open',
      id: this.id,
      crc: this.crc,
      slots: this.slots.map((s) => s.buffer),
    });
  }

  private free(): Promise<void> {
    const lane = this.lane as Lane;
    return lane.awaiting(
      new Promise<void>((resolve, reject) => {
        this.waiting = () => {
          this.waiting = undefined;
          if (this.error) reject(this.error);
          else resolve();
        };
      }),
    );
  }
}

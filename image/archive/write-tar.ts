import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Header, type Pack, pack } from 'tar-stream';

const EPOCH = new Date(0);

/**
 * A tar writer with Docker's conventions for image archives: root-owned
 * entries, fixed modes, and mtime 0 so that the same images give the same bytes.
 */
export class TarWriter {
  private readonly pack: Pack;
  private readonly done: Promise<void>;
  private readonly dirs = new Set<string>();

  constructor(out: Writable, signal?: AbortSignal) {
    this.pack = pack();
    this.done = pipeline(Readable.from(this.pack), out, { signal });
    this.done.catch(() => undefined);
  }

  private header(name: string, extra: Partial<Header>): Header {
    return {
      name,
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      mtime: EPOCH,
      size: 0,
      type: 'file',
      linkname: '',
      devmajor: 0,
      devminor: 0,
      ...extra,
    } as Header;
  }

  /** A directory entry, and those of its parents, once each. */
  directory(path: string): Promise<void> {
    const parts = path.replace(/\/$/, '').split('/');
    let chain: Promise<void> = Promise.resolve();
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.dirs.has(dir)) continue;
      this.dirs.add(dir);
      chain = chain.then(() => this.write(this.header(`${dir}/`, { type: 'directory', mode: 0o755 })));
    }
    return chain;
  }

  file(name: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.write(this.header(name, { size: bytes.length }), bytes);
  }

  /** A file whose content is streamed; `size` must be exact (tar headers come first). */
  async stream(name: string, size: number, source: AsyncIterable<Uint8Array>): Promise<void> {
    let failed: Error | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      const sink = this.pack.entry(this.header(name, { size }), (err) => (err ? reject(err) : resolve()));
      (async () => {
        for await (const chunk of source) {
          if (!sink.write(chunk)) await once(sink as never, 'drain');
        }
        (sink as unknown as { end(): void }).end();
      })().catch((err: Error) => {
        failed = err;
        sink.destroy(err);
        reject(err);
      });
    });
    await finished;
    if (failed) throw failed;
  }

  private write(header: Header, body?: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) this.pack.entry(header, body, cb);
      else this.pack.entry(header, cb);
    });
  }

  /** Ends the archive and waits until the output has taken everything. */
  async finish(): Promise<void> {
    this.pack.finalize();
    await this.done;
  }

  /** Stops writing after an error (the output gets no end-of-archive marker). */
  destroy(err: Error): void {
    this.pack.destroy(err);
  }
}

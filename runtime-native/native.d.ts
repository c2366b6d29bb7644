/** The raw binding of runtime-native/src/addon.cc. Only native-binding.ts loads it. */
export interface NativeAddon {
  /** Copies the helper executable into a sealed memfd (once per process); returns its fd. */
  sealHelper(path: string): number;
  /**
   * Spawns the helper with `stdio` as its fds 0-2 and sends it the JSON spec.
   * `onMessage` receives each message from the helper (JSON text, plus a passed fd
   * or -1); the last one is `{"type":"helper-exit","code","signal"}`.
   */
  spawn(
    spec: string,
    stdio: [number, number, number],
    onMessage: (json: string, fd: number) => void,
  ): {
    pid: number;
    id: number;
  };
  /** Sends a control message (`{"signal": n}`) to a running helper; false once it has exited. */
  send(id: number, json: string): boolean;
  /** A close-on-exec pipe: [read end, write end]. */
  pipe(): [number, number];
  /** TIOCSWINSZ on a pty master. */
  setWindowSize(fd: number, rows: number, cols: number): void;
}

// Starts a long container and reports its pid; the test then kills this process with SIGKILL.
const { NativeRuntime } = await import(process.argv[2]);
const c = new NativeRuntime().start(
  { rootfs: { lowerdirs: [process.argv[3]] }, readonlyRootfs: true, args: ['sleep', '60'] },
  'ignore',
);
const pid = await c.started();
process.stdout.write(`${pid}\n`);
await c.wait();

// Work that must not share the bench's event loop (the load generators): a forked process running a module of the
// bench through the TypeScript loader, one message in and one back.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOADER = fileURLToPath(new URL('../../ts-loader.mjs', import.meta.url));

/** Forks `moduleUrl` with `flag`, sends it `request`, and resolves with the one message it sends back. */
export function callInChild<Result>(moduleUrl: string, flag: string, request: unknown): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(moduleUrl), [flag], {
      execArgv: ['--import', LOADER],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: Result | undefined;
    child.on('message', (message) => (result = message as Result));
    child.on('error', reject);
    child.on('exit', (code) =>
      result !== undefined
        ? resolve(result)
        : reject(new Error(`${flag} child exited with ${code} and no result`)),
    );
    child.send(request as object);
  });
}

/** The child's side: when started with `flag`, answers the first message with `work(message)`, then exits. */
export function serveInChild<Request, Result>(
  flag: string,
  work: (request: Request) => Promise<Result>,
): void {
  if (!process.argv.includes(flag)) return;
  process.once('message', (message) => {
    void work(message as Request).then((result) => process.send?.(result, () => process.exit(0)));
  });
}

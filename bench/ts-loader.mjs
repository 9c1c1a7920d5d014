// Runs the TypeScript benches on Node 20 without a build step or another dependency: a module hook that strips
// types with the compiler the repository already pins (typescript's transpileModule; no type-checking here, which
// `npm run typecheck` does over bench/**/*.ts). `node --import ./bench/ts-loader.mjs bench/day/main.ts`.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const COMPILER_OPTIONS = { module: 'esnext', target: 'es2023', sourceMap: false, inlineSourceMap: true };
let ts;

/** `./x.js` written in TypeScript's nodenext style names `./x.ts` when only that exists. */
export async function resolve(specifier, context, next) {
  if (
    specifier.endsWith('.js') &&
    (specifier.startsWith('.') || specifier.startsWith('file:')) &&
    context.parentURL
  ) {
    const candidate = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (
      !existsSync(fileURLToPath(new URL(specifier, context.parentURL))) &&
      existsSync(fileURLToPath(candidate))
    )
      return next(candidate.href, context);
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  ts ??= (await import('typescript')).default;
  const source = await readFile(fileURLToPath(url), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: url });
  return { format: 'module', source: outputText, shortCircuit: true };
}

register(import.meta.url);

import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * Debian's chromium (STACK.md): no browser download. Without the background-networking flags it keeps trying to
 * reach Google's hosts, which this closed network refuses; as root it needs --no-sandbox.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = [process.env.CHROMIUM_PATH, ...CANDIDATES].find((path) => path && existsSync(path));
  if (!executablePath) {
    throw new Error(
      "no chromium found: install Debian's (`apt-get install chromium`, as .ci/run does) or set CHROMIUM_PATH",
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** One HTTP exchange as it crossed the wire, read through the DevTools protocol rather than the page's view. */
export interface WireExchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  status?: number;
  responseHeaders: Record<string, string>;
}

/**
 * Records what the browser really sent and got. `Network.responseReceivedExtraInfo` carries the status and headers
 * off the wire: a revalidation the server answered 304 shows as 304 here, while Playwright and the page see the
 * 200 the browser rebuilt from its cache.
 */
export class WireLog {
  private readonly byId = new Map<string, WireExchange>();

  private constructor(private readonly session: CDPSession) {}

  static async attach(page: Page): Promise<WireLog> {
    const session = await page.context().newCDPSession(page);
    const log = new WireLog(session);
    session.on('Network.requestWillBeSent', ({ requestId, request }) => {
      Object.assign(log.exchange(requestId), { method: request.method, url: request.url });
    });
    session.on('Network.requestWillBeSentExtraInfo', ({ requestId, headers }) => {
      log.exchange(requestId).requestHeaders = lowerCased(headers);
    });
    session.on('Network.responseReceivedExtraInfo', ({ requestId, statusCode, headers }) => {
      Object.assign(log.exchange(requestId), { status: statusCode, responseHeaders: lowerCased(headers) });
    });
    await session.send('Network.enable');
    return log;
  }

  /** Exchanges with `url`, oldest first (preflights excluded: Chromium does not report them as requests here). */
  to(url: string): WireExchange[] {
    return [...this.byId.values()].filter(
      (exchange) => exchange.url === url && exchange.method !== 'OPTIONS',
    );
  }

  async detach(): Promise<void> {
    await this.session.detach();
  }

  private exchange(requestId: string): WireExchange {
    let exchange = this.byId.get(requestId);
    if (!exchange) {
      exchange = { method: '', url: '', requestHeaders: {}, responseHeaders: {} };
      this.byId.set(requestId, exchange);
    }
    return exchange;
  }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** Files of the test page's origin: the page, the typed client and openapi-fetch, as a frontend would ship them. */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: '../browser/page.html', type: 'text/html; charset=utf-8' },
  '/vendor/api-client.js': { file: '../../clients/typescript/dist/index.js', type: 'text/javascript' },
  '/vendor/openapi-fetch.mjs': {
    file: '../../node_modules/openapi-fetch/dist/index.mjs',
    type: 'text/javascript',
  },
};

/** Serves the test page from an origin of its own (another port on loopback), so every API call is cross-origin. */
export async function servePage(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const entry = PAGE_FILES[new URL(request.url ?? '/', 'http://page').pathname];
    if (!entry) {
      response.writeHead(404).end();
      return;
    }
    const body = readFileSync(fileURLToPath(new URL(entry.file, import.meta.url)));
    response.writeHead(200, { 'content-type': entry.type, 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

// A tiny static server for the browser example: the repository (the page, dist/ and the tfjs bundles in
// node_modules/) and a folder of weight files under /models/, all from one origin on 127.0.0.1, so the
// page needs no CORS and no network.
//
//   npx tsx examples/browser/serve.ts [--port 8080] [--models ~/.keras/models]
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.wasm': 'application/wasm',
};

export interface ServeOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Served under /models/; default the Keras cache ($KERAS_HOME/models or ~/.keras/models). */
  modelsDir?: string;
  /** More folders by URL prefix, e.g. `{ '/data/': '/tmp/inputs' }`. */
  mounts?: Record<string, string>;
}

export interface RunningServer {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

export function defaultModelsDir(): string {
  return join(process.env.KERAS_HOME ?? join(homedir(), '.keras'), 'models');
}

/** Starts the server on 127.0.0.1 only: it serves files of this machine and must not face a network. */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const mounts = Object.entries({ ...options.mounts, '/models/': options.modelsDir ?? defaultModelsDir(), '/': REPOSITORY });
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = resolvePath(mounts, path.endsWith('/') ? `${path}index.html` : path);
    const send = (status: number, text: string) => response.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    if (!file) return send(403, 'outside the served folders');
    stat(file).then(
      (info) => {
        if (!info.isFile()) return send(404, 'not a file');
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
          'content-length': info.size,
        });
        createReadStream(file).pipe(response);
      },
      () => send(404, `no such file: ${path}`),
    );
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(options.port ?? 8080, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The file a URL path names under the first mount whose prefix matches, or null when it escapes it. */
function resolvePath(mounts: [string, string][], path: string): string | null {
  const [prefix, folder] = mounts.find(([prefix]) => path.startsWith(prefix))!;
  const root = resolve(folder);
  const file = resolve(root, `.${sep}${path.slice(prefix.length)}`);
  return file === root || file.startsWith(root + sep) ? file : null;
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const modelsDir = argument('--models') ?? defaultModelsDir();
  const { origin } = await serve({ port: Number(argument('--port') ?? 8080), modelsDir });
  console.log(`Serving ${REPOSITORY} and ${modelsDir} (as /models/) at ${origin}`);
  const features = new URLSearchParams({
    options: JSON.stringify({ alpha: 0.25, includeTop: false, pooling: 'avg' }),
    weights: '/models/mobilenet_2_5_224_tf_no_top.h5',
  });
  console.log(`Classify with MobileNet (needs mobilenet_1_0_224_tf.h5 there): ${origin}/examples/browser/`);
  console.log(`Features of MobileNet α=0.25 (the file in test/data/weights): ${origin}/examples/browser/?${features}`);
}

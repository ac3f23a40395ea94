// A tiny static server for the browser example: the repository (the page, dist/ and the tfjs bundles and .wasm files
// in node_modules/) and weight files under /models/, all from one origin on 127.0.0.1, so the page needs no CORS and no
// network. Every response is cross-origin isolated (COOP/COEP), so that tfjs's wasm backend can run threads.
//
//   npx tsx examples/browser/serve.ts [--port 8080] [--models ~/.keras/models]
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publishedFiles, type OfficialFile } from '../../src/applications/official-weights';

const REPOSITORY = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The package's bundled classifier (MobileNet α=0.25, 128×128): /models/ falls back to it, so the page works offline. */
const BUNDLED_MODELS = join(REPOSITORY, 'models');
const PAGE = '/examples/browser/';

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

/** Cross-origin isolation (SharedArrayBuffer, so wasm threads); no HTTP caching, so only the page's own cache keeps weights. */
const HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

export interface ServeOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Served under /models/, before the bundled models/ folder; default the Keras cache ($KERAS_HOME/models or ~/.keras/models). */
  modelsDir?: string;
  /** More folders by URL prefix, e.g. `{ '/data/': '/tmp/inputs' }`. */
  mounts?: Record<string, string>;
  /** Called for every request once answered, with the URL's path and the status (tests count requests with it). */
  onRequest?: (path: string, status: number) => void;
}

export interface RunningServer {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The folders /models/ is served from, in the order they are searched. */
  modelFolders: string[];
  close(): Promise<void>;
}

export function defaultModelsDir(): string {
  return join(process.env.KERAS_HOME ?? join(homedir(), '.keras'), 'models');
}

/** Starts the server on 127.0.0.1 only: it serves files of this machine and must not face a network. */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const modelFolders = [...new Set([resolve(options.modelsDir ?? defaultModelsDir()), BUNDLED_MODELS])];
  const mounts: [string, string[]][] = [
    ...Object.entries(options.mounts ?? {}).map(([prefix, folder]): [string, string[]] => [prefix, [folder]]),
    ['/models/', modelFolders],
    ['/', [REPOSITORY]],
  ];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const send = (status: number, text: string) => {
      response.writeHead(status, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end(text);
      options.onRequest?.(path, status);
    };
    const [prefix, folders] = mounts.find(([prefix]) => path.startsWith(prefix))!;
    const files = folders.map((folder) => inside(folder, path.endsWith('/') ? `${path}index.html` : path, prefix));
    if (files.includes(null)) return send(403, `${path} is outside the served folders`);
    firstFile(files as string[]).then((found) => {
      if (!found) return send(404, notFound(path, prefix, folders));
      response.writeHead(200, {
        ...HEADERS,
        'content-type': CONTENT_TYPES[extname(found.file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': found.size,
      });
      createReadStream(found.file).pipe(response);
      options.onRequest?.(path, 200);
    });
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(options.port ?? 8080, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    modelFolders,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** The file a URL path names in `folder` (mounted at `prefix`), or null when it escapes it. */
function inside(folder: string, path: string, prefix: string): string | null {
  const root = resolve(folder);
  const file = resolve(root, `.${sep}${path.slice(prefix.length)}`);
  return file === root || file.startsWith(root + sep) ? file : null;
}

async function firstFile(files: string[]): Promise<{ file: string; size: number } | undefined> {
  for (const file of files) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) return { file, size: info.size };
  }
  return undefined;
}

/** A 404 that says where the file belongs, and, for an official weights file, where Keras publishes it. */
function notFound(path: string, prefix: string, folders: string[]): string {
  const where = folders.length === 1 ? folders[0] : `one of ${folders.join(', ')}`;
  if (prefix !== '/models/') return `No file at ${path}: this server serves ${prefix} from ${where}.`;
  const name = path.slice(prefix.length);
  const official = publishedFiles().find((file) => file.fileName === name);
  return (
    `No file at ${path}: this server serves ${prefix} from ${where}. Put ${name} there` +
    `${official ? ` (Keras publishes it at ${official.url})` : ''}, or start the server with --models <a folder that has it>.`
  );
}

/** The page's query for an official file's configuration, e.g. `model=MobileNet&alpha=0.25&size=224&top=0`. */
export function pageQuery(file: Pick<OfficialFile, 'model' | 'includeTop' | 'shapeOptions' | 'rows'>): string {
  return new URLSearchParams({
    model: file.model,
    ...(file.shapeOptions.alpha !== undefined && { alpha: String(file.shapeOptions.alpha) }),
    ...(file.rows !== undefined && { size: String(file.rows) }),
    ...(!file.includeTop && { top: '0' }),
  }).toString();
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { origin, modelFolders } = await serve({ port: Number(argument('--port') ?? 8080), modelsDir: argument('--models') });
  console.log(`Serving ${REPOSITORY} at ${origin}, with /models/ from:`);
  // What each folder holds, and a page address for every official configuration found there.
  const official = publishedFiles().filter((file) => !file.shapeOptions.minimalistic);
  const configurations: string[] = [];
  for (const folder of modelFolders) {
    const listing = await readdir(folder).catch(() => undefined);
    const names = (listing ?? []).filter((name) => /\.(h5|hdf5|keras)$/i.test(name)).sort();
    console.log(`  ${folder}: ${listing === undefined ? 'no such folder' : names.length === 0 ? 'no weight files' : names.join(', ')}`);
    for (const name of names) {
      const file = official.find((candidate) => candidate.fileName === name);
      if (file && !configurations.some((line) => line.includes(name))) configurations.push(`${origin}${PAGE}?${pageQuery(file)}  (${name})`);
    }
  }
  console.log(`Open ${origin}${PAGE}: MobileNet α=0.25 at 128×128 with the bundled ${join(BUNDLED_MODELS, 'mobilenet_2_5_128_tf.h5')}.`);
  if (configurations.length > 0) console.log(`The official files found there open as:\n  ${configurations.join('\n  ')}`);
}

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { docker } from './docker.js';
import { fixturePath } from './repo.js';

// No registry is reachable, so test images are imported from root filesystems assembled here.

const run = promisify(execFile);
const BUSYBOX = '/bin/busybox';

/** One thing in an image's root filesystem. */
type Entry =
  | { path: string; dir: number }
  | { path: string; copyOf: string; mode: number }
  | { path: string; text: string }
  | { path: string; symlinkTo: string };

interface ImageSpec {
  repository: string;
  entries: Entry[];
  /** Dockerfile instructions for `docker import --change`. */
  changes: string[];
}

let busybox: Promise<string> | undefined;
let node: Promise<string> | undefined;

/** Tag of an image holding the static busybox and all its applets on PATH; built once per content. */
export function busyboxImage(): Promise<string> {
  busybox ??= busyboxSpec().then(ensureImage);
  return busybox;
}

/**
 * Tag of an image holding busybox, this very node binary with its shared libraries, and
 * test/fixtures/ws-echo.mjs as /app/ws-echo.mjs, which it runs by default on port 8080.
 */
export function nodeImage(): Promise<string> {
  node ??= nodeSpec().then(ensureImage);
  return node;
}

async function busyboxSpec(): Promise<ImageSpec> {
  const applets = (await run(BUSYBOX, ['--list']).catch(() => {
    throw new Error(`${BUSYBOX} does not run; install busybox-static (bash scripts/ensure-docker.sh does)`);
  })).stdout.split('\n').filter((name) => name !== '' && name !== 'busybox');
  return {
    repository: 'berth-test/busybox',
    entries: [
      { path: '/bin', dir: 0o755 },
      { path: '/etc', dir: 0o755 },
      { path: '/root', dir: 0o700 },
      { path: '/tmp', dir: 0o1777 },
      { path: '/www', dir: 0o755 },
      { path: '/bin/busybox', copyOf: BUSYBOX, mode: 0o755 },
      ...applets.map((name) => ({ path: `/bin/${name}`, symlinkTo: 'busybox' })),
      { path: '/etc/passwd', text: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
      { path: '/etc/group', text: 'root:x:0:\nnogroup:x:65534:\n' },
    ],
    changes: ['ENV PATH=/bin', 'CMD ["sh"]'],
  };
}

async function nodeSpec(): Promise<ImageSpec> {
  const base = await busyboxSpec();
  const libraries = await sharedLibraries(process.execPath);
  return {
    repository: 'berth-test/node',
    entries: [
      ...base.entries,
      { path: '/bin/node', copyOf: process.execPath, mode: 0o755 },
      // Kept at the paths ldd reports: the loader's path is baked into the binary.
      ...libraries.map((lib) => ({ path: lib, copyOf: lib, mode: 0o755 })),
      { path: '/app', dir: 0o755 },
      { path: '/app/ws-echo.mjs', copyOf: fixturePath('ws-echo.mjs'), mode: 0o644 },
    ],
    changes: ['ENV PATH=/bin', 'WORKDIR /app', 'EXPOSE 8080', 'CMD ["node", "/app/ws-echo.mjs"]'],
  };
}

/** Absolute paths of the shared libraries (dynamic loader included) that binary needs. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]).catch((err: { stdout?: string; stderr?: string }) => {
    if (`${err.stdout}${err.stderr}`.includes('not a dynamic executable')) return { stdout: '' };
    throw err;
  });
  const missing = stdout.split('\n').filter((line) => line.includes('not found'));
  if (missing.length > 0) throw new Error(`${binary} lacks shared libraries: ${missing.join('; ')}`);
  return [...stdout.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((match) => match[1] as string);
}

/** Returns the spec's tag, importing the image only when no image has that tag yet. */
async function ensureImage(spec: ImageSpec): Promise<string> {
  const tag = `${spec.repository}:${(await contentHash(spec)).slice(0, 12)}`;
  const exists = await docker('image', 'inspect', tag).then(
    () => true,
    () => false,
  );
  if (!exists) await importImage(spec, tag);
  return tag;
}

/** Hash of everything that ends up in the image: file contents count, where they were copied from does not. */
async function contentHash(spec: ImageSpec): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify([spec.repository, spec.changes]));
  for (const entry of spec.entries) {
    if ('copyOf' in entry) {
      hash.update(JSON.stringify({ path: entry.path, mode: entry.mode }));
      hash.update(await readFile(entry.copyOf));
    } else {
      hash.update(JSON.stringify(entry));
    }
  }
  return hash.digest('hex');
}

async function importImage(spec: ImageSpec, tag: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-image-'));
  try {
    const rootfs = join(work, 'rootfs');
    await writeRootfs(rootfs, spec.entries);
    const tarball = join(work, 'rootfs.tar');
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tarball, '.']);
    await docker('import', ...spec.changes.flatMap((change) => ['--change', change]), tarball, tag);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeRootfs(rootfs: string, entries: Entry[]): Promise<void> {
  for (const entry of entries) {
    const target = join(rootfs, entry.path);
    await mkdir(dirname(target), { recursive: true });
    if ('dir' in entry) {
      await mkdir(target, { recursive: true });
      await chmod(target, entry.dir); // explicit, as mkdir's mode is cut by the umask (/tmp needs 1777)
    } else if ('copyOf' in entry) {
      await copyFile(entry.copyOf, target);
      await chmod(target, entry.mode);
    } else if ('text' in entry) {
      await writeFile(target, entry.text);
    } else {
      await symlink(entry.symlinkTo, target);
    }
  }
}

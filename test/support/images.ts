import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { docker } from './docker.js';
import { fixturePath, repoRoot } from './repo.js';

// No registry is reachable, so test images are imported from root filesystems assembled here, or
// built on the Node base image that scripts/node-base-image.sh assembles from this machine's node.

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
  /** Image to add the entries to; none: the entries are the whole root filesystem. */
  base?: string;
  entries: Entry[];
  /** Dockerfile instructions for `docker import --change` / `docker commit --change`. */
  changes: string[];
}

let busybox: Promise<string> | undefined;
let nodeBase: Promise<string> | undefined;
let node: Promise<string> | undefined;
const berth = new Map<string, Promise<string>>();

/** Tag of an image holding the static busybox and all its applets on PATH; built once per content. */
export function busyboxImage(): Promise<string> {
  busybox ??= busyboxSpec().then(ensureImage);
  return busybox;
}

/**
 * Tag of the Node base image that scripts/node-base-image.sh assembles: this machine's node, npm,
 * their shared libraries, busybox and the CA bundle. The script rebuilds it only when that changes.
 */
export function nodeBaseImage(): Promise<string> {
  nodeBase ??= run('bash', [join(repoRoot(), 'scripts', 'node-base-image.sh')]).then(
    ({ stdout }) => stdout.trim().split('\n').pop() as string,
    (err: { stderr?: string; message: string }) => {
      throw new Error(`scripts/node-base-image.sh failed: ${err.stderr?.trim() || err.message}`);
    },
  );
  return nodeBase;
}

/**
 * Tag of an image holding the Node base image (nodeBaseImage) and test/fixtures/ws-echo.mjs as
 * /app/ws-echo.mjs, which it runs by default on port 8080.
 */
export function nodeImage(): Promise<string> {
  node ??= nodeSpec().then(ensureImage);
  return node;
}

/**
 * Tag of berth's own image, built from the Dockerfile on the Node base image (nodeBaseImage).
 * Tagged with the hash of the build's inputs: an unchanged checkout is built once. The build's
 * `npm ci` needs the npm registry.
 */
export function berthImage(repository = 'berth-test/berth'): Promise<string> {
  let image = berth.get(repository);
  if (!image) {
    image = buildBerthImage(repository);
    berth.set(repository, image);
  }
  return image;
}

/** What the Dockerfile's build context holds (as .dockerignore lets through), with the Dockerfile. */
const BUILD_INPUTS = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts', 'src'];

async function buildBerthImage(repository: string): Promise<string> {
  const base = await nodeBaseImage();
  const root = repoRoot();
  const hash = createHash('sha256').update(await docker('image', 'inspect', '-f', '{{.Id}}', base));
  for (const input of BUILD_INPUTS) {
    for (const file of await filesUnder(join(root, input))) {
      hash.update(`${relative(root, file)}\0`).update(await readFile(file)).update('\0');
    }
  }
  const tag = `${repository}:${hash.digest('hex').slice(0, 12)}`;
  if (!(await imageExists(tag))) {
    await run('docker', ['build', '--force-rm', '--build-arg', `NODE_IMAGE=${base}`, '--tag', tag, root], { maxBuffer: 64 * 1024 * 1024 }).catch(
      (err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`docker build of berth failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      },
    );
  }
  return tag;
}

/** The file itself, or every file under the folder, sorted. */
async function filesUnder(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOTDIR') return null;
    throw err;
  });
  if (entries === null) return [path];
  const nested = await Promise.all(entries.map((entry) => filesUnder(join(path, entry.name))));
  return nested.flat().sort();
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
  return {
    repository: 'berth-test/node',
    base: await nodeBaseImage(),
    entries: [
      { path: '/app', dir: 0o755 },
      { path: '/app/ws-echo.mjs', copyOf: fixturePath('ws-echo.mjs'), mode: 0o644 },
    ],
    changes: ['WORKDIR /app', 'EXPOSE 8080', 'CMD ["node", "/app/ws-echo.mjs"]'],
  };
}

/** Returns the spec's tag, making the image only when no image has that tag yet. */
async function ensureImage(spec: ImageSpec): Promise<string> {
  const tag = `${spec.repository}:${(await contentHash(spec)).slice(0, 12)}`;
  if (!(await imageExists(tag))) await (spec.base === undefined ? importImage(spec, tag) : commitImage(spec, spec.base, tag));
  return tag;
}

function imageExists(tag: string): Promise<boolean> {
  return docker('image', 'inspect', tag).then(
    () => true,
    () => false,
  );
}

/** Hash of everything that ends up in the image: file contents count, where they were copied from does not. */
async function contentHash(spec: ImageSpec): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify([spec.repository, spec.changes]));
  if (spec.base !== undefined) hash.update(await docker('image', 'inspect', '-f', '{{.Id}}', spec.base));
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

/** The base image with the entries added on top: docker create, docker cp, docker commit. */
async function commitImage(spec: ImageSpec, base: string, tag: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-image-'));
  let container: string | undefined;
  try {
    const files = join(work, 'files');
    await writeRootfs(files, spec.entries);
    await chmod(files, 0o755); // copied onto /: its mode would become the root folder's
    container = await docker('create', base);
    await docker('cp', `${files}/.`, `${container}:/`);
    await docker('commit', ...spec.changes.flatMap((change) => ['--change', change]), container, tag);
  } finally {
    if (container !== undefined) await docker('rm', '--force', container).catch(() => undefined);
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

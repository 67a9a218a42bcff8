// The dashboard is served as written: copy it next to the compiled admin server.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/admin/dashboard/', import.meta.url), new URL('../dist/src/admin/dashboard/', import.meta.url), { recursive: true });

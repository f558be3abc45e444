// `npm run gen:api`: dump the backend's OpenAPI schema (drf-spectacular, via the repo .venv)
// into src/api/schema.yaml, then generate the TypeScript `paths` types into src/api/schema.d.ts.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(frontend, "..");
const python = existsSync(resolve(repo, ".venv/bin/python")) ? resolve(repo, ".venv/bin/python") : "python3";
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: "inherit" });

run(python, ["manage.py", "spectacular", "--file", "frontend/src/api/schema.yaml"], repo);
run(resolve(frontend, "node_modules/.bin/openapi-typescript"), ["src/api/schema.yaml", "-o", "src/api/schema.d.ts"], frontend);

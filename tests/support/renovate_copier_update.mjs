// Renovate's copier update step, run from Renovate's own modules as a branch update runs it.
//
//     node renovate_copier_update.mjs < request.json
//
// The request, JSON on stdin so that the host rules' secrets never touch the disk, names:
// renovate (the package directory), origin (the repository to clone), localDir, cacheDir,
// depName and newValue (the template and its new tag), hostRules (what the admin or repository
// config adds) and repositoryConfig (laid over Renovate's defaults). The global config is
// Renovate's default in all but where it works (localDir, cacheDir) and binarySource "global"
// (copier from PATH instead of installing it): allowScripts keeps its default, false. Prints
// one JSON line: the settings that decide --trust, and updateArtifacts' result.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const request = JSON.parse(readFileSync(0, "utf8"));
const load = (relative) => import(pathToFileURL(join(request.renovate, "dist", relative)).href);

const logger = await load("logger/index.js");
await logger.init(); // LOG_FILE and LOG_FILE_LEVEL from the environment, as the CLI starts it
const { GlobalConfig } = await load("config/global.js");
const { getConfig } = await load("config/defaults.js");
const hostRules = await load("util/host-rules.js");
const git = await load("util/git/index.js");
const { updateArtifacts } = await load("modules/manager/copier/artifacts.js");

GlobalConfig.set({ localDir: request.localDir, cacheDir: request.cacheDir, binarySource: "global" });
for (const rule of request.hostRules) hostRules.add(rule);

// The bot's clone of the repository, the working tree copier updates.
mkdirSync(request.localDir, { recursive: true });
await git.initRepo({ url: request.origin });
await git.syncGit();

// The repository config as Renovate resolves it before any file overrides it: its defaults.
const config = { ...getConfig(), ...request.repositoryConfig };
const result = await updateArtifacts({
  packageFileName: ".copier-answers.yml",
  updatedDeps: [{ depName: request.depName, newValue: request.newValue }],
  newPackageFileContent: readFileSync(join(request.localDir, ".copier-answers.yml"), "utf8"),
  config,
});
// File contents come back as Buffers: print them as text.
const text = (key, value) => (value?.type === "Buffer" ? Buffer.from(value.data).toString("utf8") : value);
console.log(
  JSON.stringify(
    {
      allowScripts: GlobalConfig.get("allowScripts"),
      exposeAllEnv: GlobalConfig.get("exposeAllEnv"),
      ignoreScripts: config.ignoreScripts,
      result,
    },
    text,
  ),
);

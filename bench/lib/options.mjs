// Command-line options: sizes, repetitions and which workloads run.
import { MiB } from "./images.mjs";

const HELP = `npm run bench [-- options]
  --quick               small sizes, 1 repetition, 1 s load runs (tries the suite out)
  --reps N              repetitions of each workload (default 3; quick 1)
  --only 1,2,...        run only these workloads (1 skopeo, 2 blob GET, 3 manifest load, 4 cost, 5 memory, 6 replication,
                        7 pulls near users: simulated geography, 8 vulnerability scanning)
  --big-mib N           the one-layer image's layer (default 512; quick 32)
  --many-layers N       layers of the many-layer image (default 20; quick 5)
  --many-mib N          size of each of those layers (default 5; quick 1)
  --load-seconds N      autocannon run length (default 5; quick 1)
  --cost-layers N       layers of the cost image (default 10)
  --cost-layer-kib N    size of each cost layer (default 64; quick 4)
  --mem-large-mib N     large layer of the memory workload (default 2048; quick 64)
  --mem-small-mib N     small layer of the memory workload (default 100; quick 8)
  --repl-mib N          layer of the replication workload's image (default 512; quick 32)
  --scan-layer-mib N    each of the 5 gzip layers of the scanning workload's image, compressed (default 40; quick 4)
  --out PATH            where to write the results (default bench/RESULTS.md; quick bench/work/RESULTS-quick.md)
  --keep                keep the temp dir (images, server state and logs)`;

export function parseOptions(argv) {
  const quick = argv.includes("--quick");
  const opts = {
    quick,
    reps: quick ? 1 : 3,
    only: [1, 2, 3, 4, 5, 6, 7, 8],
    bigMiB: quick ? 32 : 512,
    manyLayers: quick ? 5 : 20,
    manyMiB: quick ? 1 : 5,
    loadSeconds: quick ? 1 : 5,
    costLayers: 10,
    costLayerKiB: quick ? 4 : 64,
    memLargeMiB: quick ? 64 : 2048,
    memSmallMiB: quick ? 8 : 100,
    replMiB: quick ? 32 : 512,
    scanLayerMiB: quick ? 4 : 40,
    out: null,
    keep: false,
  };
  const numeric = {
    "--reps": "reps",
    "--big-mib": "bigMiB",
    "--many-layers": "manyLayers",
    "--many-mib": "manyMiB",
    "--load-seconds": "loadSeconds",
    "--cost-layers": "costLayers",
    "--cost-layer-kib": "costLayerKiB",
    "--mem-large-mib": "memLargeMiB",
    "--mem-small-mib": "memSmallMiB",
    "--repl-mib": "replMiB",
    "--scan-layer-mib": "scanLayerMiB",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (name === "--quick") continue;
    else if (name === "--keep") opts.keep = true;
    else if (name === "--help" || name === "-h") {
      console.log(HELP);
      process.exit(0);
    } else if (name === "--only") opts.only = value().split(",").map(Number);
    else if (name === "--out") opts.out = value();
    else if (numeric[name]) {
      const n = Number(value());
      if (!(n > 0)) throw new Error(`${name} needs a positive number`);
      opts[numeric[name]] = n;
    } else throw new Error(`unknown option ${arg}\n${HELP}`);
  }
  opts.costLayerBytes = Math.round(opts.costLayerKiB * 1024);
  opts.bigBytes = Math.round(opts.bigMiB * MiB);
  opts.manyBytes = Math.round(opts.manyMiB * MiB);
  return opts;
}

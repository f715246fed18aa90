// Preloaded into benchmarked Node processes: at exit, writes the peak resident memory (KiB) and the
// process's /proc/self/io counters (rchar: every byte its threads got from read-like calls, files,
// pipes and sockets alike; read_bytes: what the storage layer fetched for it) as JSON.
process.on("exit", () => {
  const file = process.env.MP_MAXRSS_FILE;
  if (!file) return;
  const fs = require("fs");
  const io = {};
  try {
    for (const line of fs.readFileSync("/proc/self/io", "utf8").split("\n")) {
      const [key, value] = line.split(":");
      if (key && value) io[key.trim()] = Number(value.trim());
    }
  } catch {
    /* not Linux, or /proc is not mounted */
  }
  fs.writeFileSync(file, JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, io }));
});

// Preloaded into benchmarked Node processes: records peak resident memory (KiB) at exit.
process.on("exit", () => {
  if (process.env.MP_MAXRSS_FILE) require("fs").writeFileSync(process.env.MP_MAXRSS_FILE, String(process.resourceUsage().maxRSS));
});

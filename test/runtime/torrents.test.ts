/**
 * When a torrent is due (runtime/torrents.ts), from what qBittorrent reports. The reported values
 * are the ones measured on the real 4.5.2 and 5.1.0 (test/support/qbittorrent-facts.ts, checked by
 * test/runtime/qbittorrent-behaviour.test.ts): a stale seeding_time on an idle seed, a relative
 * content path right after an add in 4.5, an empty one while fetching metadata.
 */
import { describe, expect, it } from "vitest";
import type { Torrent } from "../../runtime/qbittorrent.ts";
import { classify, contentBase, seededSeconds } from "../../runtime/torrents.ts";
import { QBITTORRENT_FACTS } from "../support/qbittorrent-facts.ts";

const DAY = 86_400;
const NOW = Date.parse("2026-11-26T12:00:00Z");
const base: Torrent = { hash: "a".repeat(40), name: "X", category: "", state: "stalledUP", save_path: "/srv/c", content_path: "/srv/c/X", progress: 1, seeding_time: 0, completion_on: NOW / 1000 - 8 * DAY };

describe("seededSeconds and classify (model of qBittorrent's fields; facts measured on the real programs)", () => {
  it("only seeding_time counts, even when it lags behind the time since completion (it does not grow while stopped)", () => {
    expect(QBITTORRENT_FACTS.seedingTimeIdle.v45.lagsBehind).toBe(true);
    const stale = { ...base, seeding_time: 60 };
    expect(seededSeconds(stale, NOW)).toBe(60);
    expect(classify(stale, 7 * DAY, NOW)).toBe("seeding");
    expect(classify({ ...base, seeding_time: 7 * DAY }, 7 * DAY, NOW)).toBe("due");
  });

  it.each(["pausedUP", "stoppedUP", "queuedUP"])("a %s torrent counts only its seeding_time (it does not grow while stopped)", (state) => {
    expect(QBITTORRENT_FACTS.seedingTimeStopped.v51.advancesWhileStopped).toBe(false);
    expect(classify({ ...base, state, seeding_time: DAY }, 7 * DAY, NOW)).toBe("seeding");
    expect(classify({ ...base, state, seeding_time: 7 * DAY }, 7 * DAY, NOW)).toBe("due");
  });

  it.each([
    ["metaDL, content path empty", { state: "metaDL", content_path: "", progress: 0 }],
    ["checkingResumeData with a relative content path (4.5 right after an add)", { state: "checkingResumeData", content_path: "X" }],
    ["checkingUP", { state: "checkingUP" }],
    ["moving", { state: "moving" }],
    ["missingFiles", { state: "missingFiles" }],
    ["a state this version does not know", { state: "someFutureState" }],
  ])("%s is unsettled", (_, over) => {
    expect(classify({ ...base, ...over }, 7 * DAY, NOW)).toBe("unsettled");
  });

  it("a completed torrent not yet seeded long enough is seeding; a downloading one is downloading", () => {
    expect(classify({ ...base, completion_on: NOW / 1000 - DAY }, 7 * DAY, NOW)).toBe("seeding");
    expect(classify({ ...base, state: "stalledDL", progress: 0.5, completion_on: -1 }, 7 * DAY, NOW)).toBe("downloading");
    expect(classify({ ...base, state: "stoppedDL", progress: 0.5, completion_on: -1 }, 7 * DAY, NOW)).toBe("downloading");
  });

  it("contentBase: where content_path puts the files, the old place while a 4.5 torrent moves (save_path already the new one)", () => {
    const moving = QBITTORRENT_FACTS.moving.v45.first;
    expect(moving.content_path).toBe("<root>/save/Big.T");
    expect(moving.save_path).toBe("<tmpfs>");
    const t = { ...base, state: "moving", save_path: "/mnt/other", content_path: "/srv/c/Big.T" };
    expect(contentBase(t, ["Big.T/big.bin", "Big.T/small.txt"])).toBe("/srv/c");
    expect(contentBase({ ...t, content_path: "/srv/c/One/file.mkv" }, ["One/file.mkv"])).toBe("/srv/c");
    expect(contentBase({ ...t, content_path: "/srv/c/a.mkv" }, ["a.mkv"])).toBe("/srv/c");
    expect(contentBase({ ...t, content_path: "/srv/c" }, ["a.mkv", "a.nfo"])).toBe("/srv/c");
    expect(contentBase({ ...t, content_path: "X" }, ["X/a.mkv"])).toBeUndefined();
    expect(contentBase({ ...t, content_path: "" }, [])).toBeUndefined();
  });
});

/**
 * qBittorrent reads the preferences the generated serverConfig intends.
 *
 * Real: `services.qbittorrent` of out/nixos/qbittorrent.nix, evaluated by the real nix-instantiate;
 * qbittorrent-nox 4.5.2 (Debian 12, on the host) and 5.1 (Debian 13, from the root that
 * scripts/qbittorrent5-root.sh builds, under chroot) reading the file from their profile and
 * answering through the WebUI API on loopback.
 * Model: turning `services.qbittorrent` into qBittorrent.conf and the command line. nixpkgs is not
 * available here, so test/support/qbittorrent-ini.ts ports the NixOS module's code for it
 * (gendeepINI over legacyDefaultsSeed; ports as --webui-port / --torrenting-port flags).
 *
 * Changed for the test, and nothing else:
 * - every absolute path in serverConfig, and profileDir, is re-rooted under a temp folder (for 5.1 a
 *   folder inside its root, given as the path seen from inside), in place of /var/lib/qBittorrent;
 * - webuiPort and torrentingPort are free ports instead of the generated ones, passed as flags;
 * - TEST_ONLY below adds keys the generated config does not set (the test fails if it starts to):
 *   the WebUI listens on 127.0.0.1 only, and DHT, LSD and UPnP stay off.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evalQbittorrentService } from "../helpers.ts";
import {
  confPath,
  execArgs,
  gendeepINI,
  qbittorrentConf,
  recursiveUpdate,
  type NixValue,
  type QbittorrentOptions,
} from "../support/qbittorrent-ini.ts";
import { freePort, launchQbittorrent, passwordPbkdf2, qbittorrentProgram, QBITTORRENT_VERSIONS, type QbittorrentVersion } from "../runtime/qbittorrent.ts";

type Attrs = { [key: string]: NixValue };

const TEST_ONLY: Attrs = {
  Preferences: { WebUI: { Address: "127.0.0.1" }, Connection: { UPnP: false } },
  BitTorrent: { Session: { DHTEnabled: false, LSDEnabled: false } },
};

const LABEL: Record<QbittorrentVersion, string> = {
  "4.5": "real qbittorrent-nox 4.5.2 (Debian 12, host)",
  "5.1": "real qbittorrent-nox 5.1 (Debian 13 root, chroot)",
};

/** The value at a dotted path of serverConfig, or a failure saying the generated module stopped setting it. */
function intended(serverConfig: Attrs, path: string): NixValue {
  let v: NixValue | undefined = serverConfig;
  for (const part of path.split(".")) v = v && typeof v === "object" && !Array.isArray(v) ? v[part] : undefined;
  if (v === undefined) throw new Error(`out/nixos/qbittorrent.nix no longer sets serverConfig.${path}; this test reads it back`);
  return v;
}

/** Each leaf path of an attribute set, dotted. */
function leaves(attrs: Attrs, prefix = ""): string[] {
  return Object.entries(attrs).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** Every absolute path (a string starting with /) re-rooted under `at`. */
function reroot(v: NixValue, at: string): NixValue {
  if (typeof v === "string") return v.startsWith("/") ? `${at}${v}` : v;
  if (Array.isArray(v)) return v.map((x) => reroot(x, at));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reroot(x, at)]));
  return v;
}

interface Generated {
  profileDir: string;
  webuiPort: number | null;
  torrentingPort: number | null;
  serverConfig: Attrs;
  extraArgs?: string[];
}

let generated: Generated;
beforeAll(async () => {
  generated = (await evalQbittorrentService()) as Generated;
}, 30_000);

/**
 * Lays out a profile as the NixOS unit would (tmpfiles: qBittorrent/ and qBittorrent/config/ 755;
 * ExecStartPre: install -Dm600 of the rendered file), plus the folders default.nix's tmpfiles makes,
 * then starts the program with ExecStart's arguments.
 */
async function startAsNixosWould(version: QbittorrentVersion, edit: (serverConfig: Attrs) => Attrs = (c) => c) {
  const program = qbittorrentProgram(version); // fails, naming scripts/qbittorrent5-root.sh, when the 5.1 root is missing
  const tmp = program.tempDir("mp-qbt-config-");
  const at = program.inside(tmp);
  const rerooted = reroot(generated.serverConfig, at) as Attrs;
  const clash = leaves(TEST_ONLY).filter((p) => leaves(generated.serverConfig).includes(p));
  expect(clash, "TEST_ONLY must only add keys the generated serverConfig leaves unset").toEqual([]);
  const serverConfig = edit(recursiveUpdate(rerooted, TEST_ONLY));
  if (generated.webuiPort === null || generated.torrentingPort === null) {
    throw new Error("out/nixos/qbittorrent.nix no longer sets webuiPort and torrentingPort; this test passes both as flags");
  }
  const options: QbittorrentOptions = {
    profileDir: `${at}${generated.profileDir}`,
    webuiPort: await freePort(),
    torrentingPort: await freePort(),
    serverConfig,
    extraArgs: generated.extraArgs ?? [],
  };
  const conf = qbittorrentConf(serverConfig);
  if (conf === undefined) throw new Error("the generated serverConfig is empty: the module would write no qBittorrent.conf");
  const hostProfile = join(tmp, generated.profileDir);
  for (const dir of ["qBittorrent", "qBittorrent/config"]) {
    mkdirSync(join(hostProfile, dir), { recursive: true });
    chmodSync(join(hostProfile, dir), 0o755);
  }
  const file = join(tmp, confPath(generated.profileDir));
  writeFileSync(file, conf, { mode: 0o600 });
  for (const path of ["BitTorrent.Session.TempPath", "BitTorrent.Session.DefaultSavePath"]) {
    mkdirSync(join(tmp, intended(generated.serverConfig, path) as string), { recursive: true });
  }
  const qbt = await launchQbittorrent(program, execArgs(options), options.webuiPort!);
  return {
    qbt,
    options,
    conf,
    async stop() {
      await qbt.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

describe("qBittorrent reads the preferences the generated serverConfig intends", () => {
  describe.each(QBITTORRENT_VERSIONS)("%s", (version) => {
    it(`${LABEL[version]} reads back, through the WebUI API from loopback without login, what out/nixos/qbittorrent.nix intends, given the file and flags the model (port of the NixOS module's gendeepINI and ExecStart) makes`, async () => {
      const { qbt, options, conf, stop } = await startAsNixosWould(version);
      try {
        const versionAnswer = await qbt.api("/api/v2/app/version");
        expect(versionAnswer.status, "app/version from loopback without a cookie").toBe(200);
        expect(await versionAnswer.text()).toMatch(new RegExp(`^v${version.replace(".", "\\.")}\\.`));
        const answer = await qbt.api("/api/v2/app/preferences");
        expect(answer.status, "app/preferences from loopback without a cookie").toBe(200);
        const prefs = (await answer.json()) as Record<string, unknown>;
        const sc = options.serverConfig;
        const read = {
          temp_path: prefs.temp_path,
          temp_path_enabled: prefs.temp_path_enabled,
          save_path: prefs.save_path,
          auto_tmm_enabled: prefs.auto_tmm_enabled,
          bypass_local_auth: prefs.bypass_local_auth,
          web_ui_port: prefs.web_ui_port,
          listen_port: prefs.listen_port,
          queueing_enabled: prefs.queueing_enabled,
        };
        expect(read, `qBittorrent.conf given:\n${conf}`).toEqual({
          temp_path: intended(sc, "BitTorrent.Session.TempPath"),
          temp_path_enabled: intended(sc, "BitTorrent.Session.TempPathEnabled"),
          save_path: intended(sc, "BitTorrent.Session.DefaultSavePath"),
          auto_tmm_enabled: !intended(sc, "BitTorrent.Session.DisableAutoTMMByDefault"),
          bypass_local_auth: !intended(sc, "Preferences.WebUI.LocalHostAuth"),
          web_ui_port: options.webuiPort,
          listen_port: options.torrentingPort,
          // The module's legacyDefaultsSeed: without it qBittorrent would take the file for a pre-4.3 profile.
          queueing_enabled: false,
        });
      } finally {
        await stop();
      }
    }, 60_000);

    it(`control, ${LABEL[version]}: with LocalHostAuth=true instead, loopback without login is refused (403); login answers 200 "Ok." with cookie SID, wrong credentials 200 "Fails."`, async () => {
      const { qbt, stop } = await startAsNixosWould(version, (c) =>
        recursiveUpdate(c, { Preferences: { WebUI: { LocalHostAuth: true, Username: "admin", Password_PBKDF2: passwordPbkdf2("control-password") } } }),
      );
      try {
        const refused = await qbt.api("/api/v2/app/preferences");
        expect(refused.status).toBe(403);
        const wrong = await qbt.login("admin", "wrong");
        expect([wrong.status, await wrong.text(), wrong.headers.getSetCookie()]).toEqual([200, "Fails.", []]);
        const login = await qbt.login("admin", "control-password");
        expect([login.status, await login.text()]).toEqual([200, "Ok."]);
        expect(login.headers.getSetCookie()[0]).toMatch(/^SID=[^;]+;/);
        const prefs = (await (await qbt.api("/api/v2/app/preferences")).json()) as Record<string, unknown>;
        expect(prefs.bypass_local_auth).toBe(false);
      } finally {
        await stop();
      }
    }, 60_000);
  });
});

describe("model: the INI renderer ported from nixpkgs' qbittorrent.nix (gendeepINI, legacyDefaultsSeed, ExecStart)", () => {
  it.each<[string, Attrs, string]>([
    ["plain values as mkValueStringDefault writes them", { A: { s: "x y", i: 8080, t: true, f: false, n: null } }, "[A]\nf=false\ni=8080\nn=null\ns=x y\nt=true\n"],
    ["sections in name order, a blank line between", { Z: { k: 1 }, A: { k: 2 } }, "[A]\nk=2\n\n[Z]\nk=1\n"],
    ["nested keys joined with a backslash, leaves in name order", { P: { WebUI: { Port: 8181, Auth: { Sub: "s" } }, General: { Locale: "en" } } }, "[P]\nGeneral\\Locale=en\nWebUI\\Auth\\Sub=s\nWebUI\\Port=8181\n"],
    ["= in a key escaped, nested or not", { S: { "a=b": { "c=d": 1 }, "e=f": 2 } }, "[S]\na\\=b\\c\\=d=1\ne\\=f=2\n"],
    ["[ and ] in a section name escaped", { "a[b]": { k: 1 } }, "[a\\[b\\]]\nk=1\n"],
    ["a newline becomes \\n in a nested value only", { S: { N: { v: "a\nb" }, f: "a\nb" } }, "[S]\nN\\v=a\\nb\nf=a\nb\n"],
    ["an empty nested set leaves an empty line", { S: { E: {}, k: 1 } }, "[S]\n\nk=1\n"],
    ["names in byte order, numeric names too", { S: { b: 1, B: 2, _: 3, "é": 4, a: 5, "10": 6, "9": 7 } }, "[S]\n10=6\n9=7\nB=2\n_=3\na=5\nb=1\né=4\n"],
    ["a float as Nix's toString writes it", { S: { f: 1.5 } }, "[S]\nf=1.500000\n"],
  ])("gendeepINI: %s", (_, given, want) => {
    expect(gendeepINI(given)).toBe(want);
  });

  it.each<[string, Attrs]>([
    ["a list", { S: { l: ["a"] } }],
    ["an unmerged mkForce", { S: { N: { v: { _type: "override", priority: 50, content: 1 } } } }],
    ["a section that is not a set", { S: 1 }],
  ])("gendeepINI refuses %s", (_, given) => {
    expect(() => gendeepINI(given)).toThrow();
  });

  it.each<[string, Attrs, string | undefined]>([
    ["an empty serverConfig writes no file", {}, undefined],
    ["the legacy seed is merged in", { LegalNotice: { Accepted: true } }, "[BitTorrent]\nSession\\QueueingSystemEnabled=false\n\n[LegalNotice]\nAccepted=true\n"],
    ["serverConfig wins over the seed", { BitTorrent: { Session: { QueueingSystemEnabled: true } } }, "[BitTorrent]\nSession\\QueueingSystemEnabled=true\n"],
    ["the merge is recursive", { BitTorrent: { Session: { Port: 1 }, Other: 2 } }, "[BitTorrent]\nOther=2\nSession\\Port=1\nSession\\QueueingSystemEnabled=false\n"],
    ["a non-set replaces the seed's set", { BitTorrent: { Session: "x" } }, "[BitTorrent]\nSession=x\n"],
  ])("qbittorrentConf: %s", (_, given, want) => {
    expect(qbittorrentConf(given)).toBe(want);
  });

  it.each<[string, Omit<QbittorrentOptions, "serverConfig">, string[]]>([
    ["both ports as flags", { profileDir: "/var/lib/qBittorrent", webuiPort: 8080, torrentingPort: 6881 }, ["--profile=/var/lib/qBittorrent", "--webui-port=8080", "--torrenting-port=6881"]],
    ["null ports left out, extraArgs last", { profileDir: "/p", webuiPort: null, torrentingPort: null, extraArgs: ["--confirm-legal-notice"] }, ["--profile=/p", "--confirm-legal-notice"]],
  ])("execArgs: %s", (_, given, want) => {
    expect(execArgs({ ...given, serverConfig: {} })).toEqual(want);
  });

  it("confPath mirrors ExecStartPre's target", () => {
    expect(confPath("/var/lib/qBittorrent")).toBe("/var/lib/qBittorrent/qBittorrent/config/qBittorrent.conf");
  });
});

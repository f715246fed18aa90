/**
 * A minimal Zip writer (stored entries, UTF-8 names), so each history's archives hold content of
 * their own: the property compares contents by hash, and a fixture shared by two items would let one
 * item's copy hide the other's loss. `encrypted` sets the "encrypted" flag on every entry (lsar then
 * reports XADIsEncrypted and unar asks for a password, as for a real ZipCrypto entry); `corrupt`
 * flips a byte of the first entry's data, so unar fails with "Wrong checksum" (exit 1).
 */
import { crc32 } from "node:zlib";

export interface ZipEntry {
  name: string;
  data: Buffer | string;
}

export function zip(entries: readonly ZipEntry[], options: { encrypted?: boolean; corrupt?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  let firstData = -1;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const data = Buffer.from(e.data);
    const crc = crc32(data);
    const flags = (options.encrypted ? 0x0001 : 0) | 0x0800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // 00:00
    local.writeUInt16LE(0x5021, 12); // 2020-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x031e, 4); // made by Unix, 3.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x5021, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    if (firstData < 0 && data.length > 0) firstData = offset + 30 + name.length;
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  const out = Buffer.concat([...locals, directory, end]);
  if (options.corrupt && firstData >= 0) out[firstData] = out[firstData]! ^ 0xff;
  return out;
}

/**
 * Cleanup, step 3: verify. Each planned deletion's remote copies are compared with one remote
 * listing (sizes and SHA-1s as the remote stores them: B2 keeps each file's SHA-1, so no byte is
 * read on either side). A copy that is missing, or whose size or hash differs from the upload
 * record, keeps the whole deletion.
 */
import type { RemoteCopy } from "../records.ts";
import type { Deletion } from "./plan.ts";

export type RemoteListing = ReadonlyMap<string, { size: number; sha1?: string }>;

/** Why a copy does not match the listing, or undefined when it does. Pure. */
export function copyProblem(copy: RemoteCopy, listing: RemoteListing): string | undefined {
  const found = listing.get(copy.remotePath);
  if (!found) return `${JSON.stringify(copy.remotePath)} is missing on the remote`;
  if (found.size !== copy.size) return `${JSON.stringify(copy.remotePath)} is ${found.size} bytes on the remote, ${copy.size} when uploaded`;
  if (!found.sha1) return `the remote lists no SHA-1 for ${JSON.stringify(copy.remotePath)}`;
  if (copy.sha1 === null || found.sha1.toLowerCase() !== copy.sha1.toLowerCase()) return `${JSON.stringify(copy.remotePath)} on the remote has another SHA-1 than when it was uploaded`;
  return undefined;
}

export function verifyDeletion(d: Deletion, listing: RemoteListing): string | undefined {
  for (const copy of d.needs) {
    const problem = copyProblem(copy, listing);
    if (problem) return problem;
  }
  return undefined;
}

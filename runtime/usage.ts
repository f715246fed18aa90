/** Bad usage or a bad config: the runtime says it in one line and exits 2. */
export class UsageError extends Error {}

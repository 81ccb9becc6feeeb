// The error a store adapter throws when its configuration cannot work (an unreachable or unsuitable
// database): the server reports it in one line and exits, instead of serving on the wrong store.
export class StoreConfigError extends Error {}

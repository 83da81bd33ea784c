// Only version 1 has this file.
export function legacy() { return "old"; }

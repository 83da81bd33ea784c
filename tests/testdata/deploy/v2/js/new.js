// Only version 2 has this file.
export function fresh() { return "new"; }

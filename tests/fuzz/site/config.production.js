export const production = true;

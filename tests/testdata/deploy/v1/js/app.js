export const version = 1;
console.log("app", version);

export const version = 2;
console.log("app", version, "with new.js");

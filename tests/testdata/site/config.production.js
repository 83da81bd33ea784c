export default {mode: "production"};

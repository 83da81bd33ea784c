export const answer = 42;

// Long enough that every coding saves more than 10 % and 32 bytes (see css/site.css).
export function greet(name) {
  const greeting = document.createElement("p");
  greeting.textContent = `Hello, ${name}!`;
  document.body.appendChild(greeting);
  return greeting;
}

export function farewell(name) {
  const farewell = document.createElement("p");
  farewell.textContent = `Goodbye, ${name}!`;
  document.body.appendChild(farewell);
  return farewell;
}

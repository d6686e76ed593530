// What this teaches: how docker words an age. `docker ps` says "Up 3 seconds",
// "Exited (0) About a minute ago"; `docker images` says "2 weeks ago"; `ctr content
// ls` says "Less than a second". The wording is coarse on purpose (a minute and a half
// is still "About a minute") and hours round to the nearest one while every other
// step truncates. Mirrors docker/go-units' duration.go (HumanDuration).

/**
 * go-units HumanDuration: a human-readable approximation of a duration in
 * milliseconds, without "ago": "Less than a second", "About a minute", "3 hours".
 */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(milliseconds / 60_000);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(milliseconds / 3_600_000 + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(milliseconds / 3_600_000 / 24 / 365)} years`;
}

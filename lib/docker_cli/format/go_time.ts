// What this teaches: the two ways docker prints a point in time. `CreatedAt` in `ps`
// and `images` templates is Go's time.Time.String() in the local zone
// ("2026-11-28 06:38:01 +0000 UTC"); `docker version` shows build times in ANSI C
// form ("Fri May 30 12:07:14 2025"). Mirrors Go's time.Time.String and time.ANSIC.

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** The local zone's abbreviation ("UTC", "CET"), or its numeric offset when it has none. */
function zoneName(date: Date): string {
  const offsetMinutes = -date.getTimezoneOffset();
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
      .formatToParts(date).find((item) => item.type === "timeZoneName")?.value;
    if (part && /^[A-Z]{2,5}$/.test(part)) return part;
    if (part === "GMT" && offsetMinutes === 0) return "UTC";
  } catch { /* fall through to the numeric form */ }
  return numericOffset(offsetMinutes).replace(/00$/, "");
}

function numericOffset(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? "-" : "+";
  const magnitude = Math.abs(offsetMinutes);
  return `${sign}${pad(Math.trunc(magnitude / 60))}${pad(magnitude % 60)}`;
}

/** Go's time.Unix(seconds, 0).String(): "2006-01-02 15:04:05 -0700 MST" in the local zone. */
export function goTimeString(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return `${day} ${time} ${numericOffset(-date.getTimezoneOffset())} ${zoneName(date)}`;
}

/** Go's time.ANSIC layout in UTC: "Mon Jan _2 15:04:05 2006". */
export function ansiC(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, " ");
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${
    pad(date.getUTCSeconds())
  }`;
  return `${WEEKDAYS[date.getUTCDay()]} ${
    MONTHS[date.getUTCMonth()]
  } ${day} ${time} ${date.getUTCFullYear()}`;
}

/** Reformats an RFC 3339 build time as docker version does; other text is returned as is. */
export function reformatBuildTime(text: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return text;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  // Go keeps the zone the text was written in; build times are written in UTC or +00:00.
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(text);
  if (offset) {
    const minutes = (Number(offset[2]) * 60 + Number(offset[3])) * (offset[1] === "-" ? -1 : 1);
    return ansiC(new Date(date.getTime() + minutes * 60_000));
  }
  return ansiC(date);
}

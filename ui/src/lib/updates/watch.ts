// What the daily update check (when the person turned it on) found, said once per version:
// read 90 s after start, then every 10 minutes (the check itself runs in Rust).
import { api } from "../api";

export function watchUpdates(say: (text: string) => void, quiet: () => boolean): void {
  let said = "";
  const look = () =>
    void api
      .updateDownloadState()
      .then(([, last]) => {
        const v = last?.available?.version;
        if (v && v !== said && !quiet()) {
          said = v;
          say(`Parley ${v} is available: Settings → About → Updates.`);
        }
      })
      .catch(() => {});
  setTimeout(look, 90_000);
  setInterval(look, 600_000);
}

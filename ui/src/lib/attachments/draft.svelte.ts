// The composer's attachments: starts one attach command per file (picked, dropped or pasted),
// keeps the chips (chips.ts) as the commands answer, cancels and removes. The chips stay when
// sending fails; `clear` is called only once the message was accepted.
import { errorText } from "../api";
import { attachApi, newJob } from "./api";
import * as C from "./chips";

type Api = Pick<typeof attachApi, "attachFile" | "attachBytes" | "cancelAttach">;

export class AttachmentDraft {
  chips: C.Chip[] = $state([]);

  constructor(private api: Api = attachApi) {}

  /** The chips on screen. */
  get shown(): C.Chip[] {
    return C.shown(this.chips);
  }

  /** A file is still being attached. */
  get busy(): boolean {
    return C.busy(this.chips);
  }

  /** What goes with the message. */
  get parts(): C.AttachedPart[] {
    return C.partsOf(this.chips);
  }

  /** Attaches the files at `paths` (picked or dropped), each once. */
  addPaths(paths: readonly string[]): Promise<void>[] {
    return C.droppedPaths(paths).map((path) => {
      const job = newJob();
      this.chips = [...this.chips, C.attaching(job, C.fileName(path))];
      return this.run(job, () => this.api.attachFile(path, job));
    });
  }

  /** Attaches pasted images. */
  addFiles(files: readonly File[]): Promise<void>[] {
    return files.map((file) => {
      const job = newJob();
      this.chips = [...this.chips, C.attaching(job, file.name, file.size)];
      return this.run(job, async () => {
        const bytes = new Uint8Array(await file.arrayBuffer());
        return this.api.attachBytes(file.name, file.type, C.toBase64(bytes), job);
      });
    });
  }

  /** Attaches what `attach` brings (an MCP server's resource), shown as `name` meanwhile. */
  addWith(name: string, attach: (job: string) => Promise<C.Attachment>): Promise<void> {
    const job = newJob();
    this.chips = [...this.chips, C.attaching(job, name)];
    return this.run(job, () => attach(job));
  }

  /** Stops attaching `job`; nothing of it is sent. */
  cancel(job: string): void {
    const was = this.chips.find((c) => c.job === job)?.state;
    this.chips = C.cancelled(this.chips, job);
    if (was === "attaching") this.api.cancelAttach(job).catch(() => {});
  }

  /** Takes a chip away (cancelling it first when it is still attaching). */
  remove(job: string): void {
    this.cancel(job);
    this.chips = C.removed(this.chips, job);
  }

  /** After the message was sent: the draft starts empty. */
  clear(): void {
    this.chips = [];
  }

  private async run(job: string, attach: () => Promise<C.Attachment>): Promise<void> {
    try {
      const a = await attach();
      this.chips = C.settled(this.chips, job, a);
    } catch (e) {
      this.chips = C.failed(this.chips, job, errorText(e));
    }
  }
}

/** What a first-time user is told to do, in order. */
export interface Step {
  title: string;
  detail: string;
}

export function firstRunSteps(): Step[] {
  return [
    { title: "Add a provider", detail: "an OpenAI-compatible server such as llama.cpp, LM Studio or OpenAI itself." },
    { title: "Save its key", detail: "keys go to your system keychain and nowhere else." },
    { title: "Start a chat", detail: "your conversations stay in a local database on this computer." },
  ];
}

// Placeholder until the attacks branch is merged: the attack suite lives in chaos/attacks/ and
// exports this list (see chaos/run.ts).
import type { AttackResult, Scale } from "../lib/results";

export const attacks: { id: string; title: string; run(scale: Scale): Promise<AttackResult> }[] = [];

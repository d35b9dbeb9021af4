// Placeholder so the infrastructure can bundle and synthesize the launcher before the real handler
// lands (branch `launcher`). It rejects every event loudly: a deployed placeholder must not look healthy.
export async function handler(): Promise<never> {
  throw new Error('iwomp launcher placeholder: build from the launcher branch');
}

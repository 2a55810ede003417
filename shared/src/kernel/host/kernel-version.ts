/**
 * A mainline kernel release as `MAJOR.MINOR` (stable updates such as 5.15.100 are written as their release, 5.15).
 * migsim knows the x86 KVM behaviours of the releases from OLDEST_RELEASE to NEWEST_RELEASE (the trees read for
 * `release-changes.ts`); a release outside that range is refused rather than guessed.
 */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
}

export const OLDEST_RELEASE = '5.10';
export const NEWEST_RELEASE = '6.19';

/** Releases users name most (LTS and the ones where dirty logging changed), for help texts and examples. */
export const COMMON_RELEASES = ['5.10', '5.15', '6.1', '6.6', '6.12', '6.13', '6.18'] as const;

/** `MAJOR.MINOR` (a `.PATCH` suffix is accepted and ignored), or undefined when the text is not a release. */
export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Negative when a is older than b, 0 when equal, positive when newer. */
export function compareKernelVersions(a: KernelVersion, b: KernelVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function formatKernelVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}`;
}

/** Whether `v` is a release migsim has behaviours for. */
export function isKnownRelease(v: KernelVersion): boolean {
  return compareKernelVersions(v, parseKernelVersion(OLDEST_RELEASE)!) >= 0 && compareKernelVersions(v, parseKernelVersion(NEWEST_RELEASE)!) <= 0;
}

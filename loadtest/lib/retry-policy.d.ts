export function retryDelayMs(status: number, retryAfter: string | null | undefined, attempt: number, now?: number): number | null;

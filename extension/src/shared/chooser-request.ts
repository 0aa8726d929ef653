// The chooser request the background stores in storage.session for the chooser page.
export interface ChooserRequest {
  /** The site's origin, as the background saw it (never what the page claims). */
  site: string;
  expiresAt: number;
}

export function chooserKey(requestId: string): string {
  return `chooser:${requestId}`;
}

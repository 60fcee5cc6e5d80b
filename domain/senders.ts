/** The sender every account may use without an assignment (DESIGN §11). */
export const DEFAULT_SENDER = 'Herald';

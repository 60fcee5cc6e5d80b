// Placeholder: replaced by the real setup (Temporal dev server + fresh PostgreSQL database).
export default async function setup(): Promise<void> {}

// A compiled SQL statement: its text and the values bound to its placeholders, in order.
export interface Sql {
  text: string;
  params: unknown[];
}

// Common English given-name diminutives, as groups of names one person may be registered under: a match on a
// nickname ("Bill" for "William") is almost as strong as an exact one. Lower case, letters only.

const NICKNAME_GROUPS: readonly string[][] = [
  ['william', 'bill', 'billy', 'will', 'willy', 'liam'],
  ['robert', 'bob', 'bobby', 'rob', 'robbie', 'bert'],
  ['richard', 'rick', 'ricky', 'dick', 'rich', 'richie'],
  ['james', 'jim', 'jimmy', 'jamie'],
  ['john', 'jack', 'johnny', 'jon'],
  ['joseph', 'joe', 'joey'],
  ['thomas', 'tom', 'tommy'],
  ['charles', 'charlie', 'chuck', 'chaz'],
  ['daniel', 'dan', 'danny'],
  ['matthew', 'matt', 'matty'],
  ['anthony', 'tony'],
  ['michael', 'mike', 'mikey', 'mick'],
  ['david', 'dave', 'davey'],
  ['steven', 'stephen', 'steve', 'stevie'],
  ['andrew', 'andy', 'drew'],
  ['kevin', 'kev'],
  ['george', 'georgie'],
  ['edward', 'ed', 'eddie', 'ted', 'ned'],
  ['benjamin', 'ben', 'benny'],
  ['samuel', 'sam', 'sammy'],
  ['alexander', 'alex', 'al', 'sandy'],
  ['nicholas', 'nick', 'nicky'],
  ['christopher', 'chris', 'kit'],
  ['patrick', 'pat', 'paddy'],
  ['mary', 'molly', 'polly', 'mae'],
  ['patricia', 'pat', 'patty', 'trish', 'tricia'],
  ['jennifer', 'jen', 'jenny'],
  ['elizabeth', 'liz', 'lizzie', 'beth', 'betty', 'eliza', 'betsy', 'libby'],
  ['barbara', 'barb', 'babs'],
  ['susan', 'sue', 'susie', 'suzy'],
  ['jessica', 'jess', 'jessie'],
  ['margaret', 'maggie', 'meg', 'peggy', 'marge', 'margie'],
  ['sandra', 'sandy'],
  ['deborah', 'debra', 'deb', 'debbie'],
  ['katherine', 'catherine', 'kathryn', 'kate', 'katie', 'kathy', 'cathy', 'kat'],
  ['victoria', 'vicky', 'tori'],
  ['rebecca', 'becky', 'becca'],
  ['michelle', 'shelly'],
  ['caroline', 'carol', 'carrie'],
  ['donna', 'donnie'],
  ['lucia', 'lucy'],
  ['sofia', 'sophia', 'sophie'],
  ['dmitri', 'dmitry', 'dima'],
];

/** name -> every index of a group holding it (a nickname such as "pat" belongs to several). */
const GROUPS_OF: ReadonlyMap<string, readonly number[]> = NICKNAME_GROUPS.reduce((map, group, index) => {
  for (const name of group) map.set(name, [...(map.get(name) ?? []), index]);
  return map;
}, new Map<string, number[]>());

/** True when the two (normalized) given names are different forms of one name. */
export function areNicknames(a: string, b: string): boolean {
  const groups = GROUPS_OF.get(a);
  return groups !== undefined && (GROUPS_OF.get(b) ?? []).some((g) => groups.includes(g));
}

// Role ceilings: every staff role may read the hospital's own terminology (coded entry in its app), and
// patients may not widen past their own compartment.
import { ROLES, roleCeiling } from '../../../server/auth/roles';

test.each(Object.keys(ROLES).filter((role) => ROLES[role].staff))('%s may read CodeSystem and ValueSet', (role) => {
  const ceiling = roleCeiling(role).join(' ');
  const readsAll = /user\/\*\.c?r/.test(ceiling);
  expect(readsAll || (ceiling.includes('user/CodeSystem.rs') && ceiling.includes('user/ValueSet.rs'))).toBe(true);
});

test('a patient has only patient/*.rs, and an unknown role nothing', () => {
  expect(roleCeiling('patient')).toEqual(['patient/*.rs']);
  expect(roleCeiling('nobody')).toEqual([]);
});

/**
 * The base words of the passwords people choose most often (found item 6):
 * words, names, keyboard walks and number runs that top every published
 * leak analysis. Written for this project as base forms only — the policy
 * (src/password-policy.ts) folds case, undoes common letter-for-digit swaps
 * and strips leading and trailing digits and symbols before looking a
 * password up, so "Password2024!", "p@ssw0rd" and "123Dragon" all meet
 * "password" or "dragon" here and this list stands for many thousands of
 * variants.
 */
const WORDS = `
password passw0rd passwort motdepasse contrasena contraseña senha parola wachtwoord haslo salasana
qwerty qwertz azerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx qweasd qweasdzxc 1qaz2wsx
1q2w3e 1q2w3e4r 1q2w3e4r5t zaq12wsx qwer asdf zxcv poiuyt lkjhgf mnbvcx
abc abcd abcde abcdef abcdefg abcdefgh abc123 a1b2c3 aaaaaa
iloveyou loveyou iloveu ilove lover loving love lovely loveme
admin administrator root toor user guest test tester testing demo default changeme letmein welcome
login logon master secret private access system server network internet computer mail email webmail
hello hallo hola bonjour ciao salut
monkey dragon shadow sunshine princess football baseball basketball soccer hockey tennis golf
superman batman spiderman ironman starwars pokemon naruto matrix
michael jennifer jordan michelle daniel jessica ashley charlie thomas robert andrew joshua
anthony william david richard joseph james john mary patricia linda barbara elizabeth susan
maria nicole hannah amanda melissa sarah lauren stephanie heather justin tigger buster
pepper ginger maggie bailey bella lucky molly sophie chloe daisy max rocky oscar teddy toby
jack harley hunter ranger soldier killer cowboy pirate ninja samurai warrior viking
freedom liberty trustno1 whatever nothing something anything everything forever
summer winter autumn spring january february march april june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
flower flowers rose daisy sunflower butterfly rainbow heaven angel angels blessed jesus god christ
cookie cookies chocolate banana orange apple cherry lemon peach strawberry coffee pizza cheese
money dollar cash rich bitcoin crypto
purple yellow green blue black white silver golden gold diamond
tiger lion eagle falcon wolf bear panther jaguar cobra snake horse dolphin shark fish kitten puppy doggy
mustang ferrari porsche corvette camaro harley yamaha honda toyota mercedes bmw audi
london paris berlin madrid rome newyork chicago boston texas california florida canada germany
france spain italy america england
hottie sexy babygirl baby babe honey sweet sweetie cutie beautiful pretty handsome
family friends friend mother father mommy daddy sister brother
happy smile funny crazy magic wizard merlin dragonball
computer1 internet1 master1 super superstar star stars rockstar music guitar piano
qwerty123 password1 abc123456 iloveyou1 football1
12345 123456 1234567 12345678 123456789 1234567890 0123456789 987654321 9876543210 654321 54321 4321
111111 1111111 11111111 000000 00000000 121212 123123 123321 112233 102030 147258 159753 147852 753951
789456 456789 741852 963852 246810 135790 131313 696969 666666 777777 888888 999999 555555 222222 333333 444444
11223344 12344321 1234qwer qwer1234 asdf1234 zxcv1234
passpass pass pass123 letmein1 welcome1 admin123 root123 test123 guest123
soleil chouchou doudou loulou nicolas camille marseille liverpool chelsea arsenal barcelona juventus
schalke bayern dortmund fussball hallo123 schatz mausi
`;

/** Lower-case base words (see the module comment). */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter((w) => w.length > 0));

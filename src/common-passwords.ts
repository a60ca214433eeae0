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

matthew christopher nicholas alexander benjamin samuel jonathan brandon tyler zachary kevin steven brian jason
eric adam kyle aaron nathan ryan jacob ethan logan dylan austin cameron connor evan gabriel isaac lucas mason
noah oliver owen patrick peter scott sean shane simon stephen timothy victor vincent walter wesley xavier
alexis alice alicia amber amy andrea angela anna ashley britney brittany caroline carolina cassandra catherine
christina christine claire crystal cynthia danielle diana donna emily emma erica erin eva faith fiona gabriela
grace hailey helen holly isabella jade jasmine jenny jessie joanna julia julie karen kate katie kayla kelly
kimberly kristen laura leah lily lindsay lisa lucy madison mandy megan melanie mia michele monica morgan
naomi natalie nancy olivia paige pamela rachel rebecca samantha sandra sara savannah sharon shelby sierra
sophia stacy tiffany tina vanessa veronica victoria whitney
snoopy garfield scooby mickey minnie donald goofy tweety simba nemo shrek yoda vader skywalker hobbit gandalf
frodo harrypotter hogwarts voldemort pikachu mario luigi zelda sonic tetris minecraft fortnite roblox
chelsea1 liverpool1 manchester united arsenal1 realmadrid barca milan inter ajax celtic rangers lakers
yankees redsox cowboys steelers packers patriots raiders eagles1 bulls warriors
jordan23 kobe24 lebron michael23 messi ronaldo neymar beckham zidane pele maradona
qwerty1 qwerty12 qwerty1234 azerty123 qwertz123 asdasd asdfasdf zxczxc qazqaz wsxwsx qweqwe qwe123 asd123 zxc123
aa123456 a123456 a12345 123abc abc12345 abcd1234 1234abcd pass1234 password12 password1234 passw0rd1
admin1 admin12 admin1234 administrator1 root1234 toor123 user123 user1234 test1234 testtest guest1
changeme1 default1 welcome123 welcome1234 letmein123 secret1 secret123 private1 master123 login123
iloveyou2 iloveyou123 loveyou1 mylove lovelove lovers sweetheart darling kisses hugs
superman1 batman1 spiderman1 starwars1 pokemon1 naruto1 dragon1 shadow1 monkey1 master12 killer1 ninja1
sunshine1 princess1 football12 baseball1 soccer1 hockey1 blink182 myspace facebook google yahoo hotmail gmail
outlook microsoft windows apple iphone samsung android linux ubuntu debian python java oracle cisco
abcdefghij qwertyuiopasdfghjkl 1qazxsw2 2wsx3edc 3edc4rfv 1q2w3e4r5t6y zaq1xsw2 xsw2zaq1 q1w2e3r4 q1w2e3r4t5
1a2b3c4d 1a2b3c aa1234 aaa111 abc111 abc321 321cba 112233445566 123123123 123321123 123654 123456a 123456q
1234561 12345678910 0987654321 098765 147258369 159357 258456 369258 741963 789123 963852741 0000000000
1111111111 1212121212 1231231234 2580 5201314 520520 666999 696969696 7777777777 8888888888 9999999999
abc abc1234567 qwerty12345 qwertyuiop1 password01 password2 password3 password9 password99
motdepasse1 azertyuiop soleil1 marseille1 doudou1 chouchou1 loulou1 bisous nounours chocolat1
passwort1 hallo1234 schatz1 fussball1 sommer winter1 frühling herbst
contrasena1 contraseña1 hola1234 teamo amor amorcito corazon princesa tequiero mariposa
senha123 senha1234 amoremio ciao123 forzainter
jesus1 jesuschrist god123 blessed1 faith1 hope grace1 heaven1 angel1 angels1 prayer church bible
money1 money123 dollars rich1 million billion lucky7 lucky13 casino poker
rainbow1 purple1 yellow1 orange1 black1 blue123 red123 green1 pink pinky silver1 golden1
kitty kitty123 kittycat pussycat doggie puppy1 puppies buddy buddy1 bandit bear1 teddybear tiger1 lion1
summer1 summer2020 summer2021 summer2022 summer2023 summer2024 summer2025 winter2024 spring2024 autumn2024
january1 december1 monday1 friday1
cheese1 pizza1 pepper1 ginger1 coffee1 cookie1 banana1 apple1 cherry1 chocolate2 candy sugar honey1 sweety
hello1 hello123 hello1234 helloworld hi123 hey123 yes123 okay nopass nopassword none null undefined
trustme trustno1 believe forget forgotten remember whatever1 nothing1 someone anyone everyone
computer123 internet123 network1 server1 system1 access1 access14 connect office office123 work work123
school school1 student teacher college university
mother1 father1 family1 children kids mybaby baby123 babyboy babygirl1 princess12
england1 london1 paris1 berlin1 newyork1 america1 usa123 canada1 mexico brazil russia china japan india
`;

/** Lower-case base words (see the module comment). */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(WORDS.split(/\s+/).filter((w) => w.length > 0));

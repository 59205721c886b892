// The seeded dataset's raw material: per-country names, streets, cities, legal forms and calling codes, and the lists tags, titles and ticket subjects are drawn from.
//
// Order matters: the generator draws from these lists by index, so reordering or inserting an entry changes every
// dataset after it. Append only, and expect the seeded output to change when you do.

export type Country = 'DE' | 'FR' | 'GB' | 'US' | 'NL' | 'ES' | 'IT' | 'SE';

export interface CountryData {
  weight: number;
  currency: string;
  tld: string;
  first: string[];
  last: string[];
  streets: string[];
  cities: [city: string, postalPrefix: string][];
  legalForms: string[];
  sectors: string[];
}

export const COUNTRIES: Record<Country, CountryData> = {
  DE: {
    weight: 22, currency: 'EUR', tld: 'de',
    first: ['Anna', 'Lukas', 'Sophie', 'Jonas', 'Lena', 'Maximilian', 'Katrin', 'Felix', 'Julia', 'Tobias', 'Miriam', 'Jürgen'],
    last: ['Schmidt', 'Müller', 'Schneider', 'Fischer', 'Weber', 'Becker', 'Hoffmann', 'Schäfer', 'Koch', 'Richter', 'Wagner', 'Krüger'],
    streets: ['Hauptstraße', 'Bahnhofstraße', 'Gartenweg', 'Schillerstraße', 'Industriestraße', 'Lindenallee'],
    cities: [['Berlin', '10'], ['Hamburg', '20'], ['München', '80'], ['Köln', '50'], ['Frankfurt am Main', '60'], ['Stuttgart', '70']],
    legalForms: ['GmbH', 'AG', 'GmbH & Co. KG'],
    sectors: ['Maschinenbau', 'Logistik', 'Software', 'Handel', 'Elektrotechnik', 'Bau'],
  },
  FR: {
    weight: 14, currency: 'EUR', tld: 'fr',
    first: ['Camille', 'Louis', 'Chloé', 'Hugo', 'Léa', 'Antoine', 'Manon', 'Julien', 'Élodie', 'Mathieu'],
    last: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Lefèvre'],
    streets: ['Rue de la République', 'Avenue Victor Hugo', 'Rue du Moulin', 'Boulevard Voltaire', 'Rue des Lilas'],
    cities: [['Paris', '75'], ['Lyon', '69'], ['Marseille', '13'], ['Toulouse', '31'], ['Nantes', '44'], ['Lille', '59']],
    legalForms: ['SARL', 'SAS', 'SA'],
    sectors: ['Conseil', 'Distribution', 'Industrie', 'Logiciels', 'Transports', 'Énergie'],
  },
  GB: {
    weight: 14, currency: 'GBP', tld: 'co.uk',
    first: ['Oliver', 'Amelia', 'Harry', 'Isla', 'George', 'Emily', 'Jack', 'Charlotte', 'Thomas', 'Grace'],
    last: ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Evans', 'Davies', "O'Brien", 'Walker'],
    streets: ['High Street', 'Station Road', 'Church Lane', 'Victoria Road', 'Park Avenue', 'Mill Lane'],
    cities: [['London', 'EC1'], ['Manchester', 'M1'], ['Birmingham', 'B1'], ['Leeds', 'LS1'], ['Bristol', 'BS1'], ['Edinburgh', 'EH1']],
    legalForms: ['Ltd', 'PLC', 'LLP'],
    sectors: ['Consulting', 'Engineering', 'Logistics', 'Software', 'Trading', 'Media'],
  },
  US: {
    weight: 20, currency: 'USD', tld: 'com',
    first: ['James', 'Emma', 'Michael', 'Olivia', 'Ethan', 'Ava', 'Daniel', 'Madison', 'Christopher', 'Abigail'],
    last: ['Johnson', 'Miller', 'Davis', 'Garcia', 'Rodriguez', 'Martinez', 'Anderson', 'Jackson', 'White', 'Harris'],
    streets: ['Main Street', 'Oak Avenue', 'Maple Drive', 'Market Street', 'Sunset Boulevard', 'Elm Street'],
    cities: [['San Francisco', '941'], ['New York', '100'], ['Chicago', '606'], ['Boston', '021'], ['Seattle', '981'], ['Austin', '787']],
    legalForms: ['Inc.', 'LLC', 'Corp.'],
    sectors: ['Systems', 'Labs', 'Logistics', 'Analytics', 'Supply', 'Networks'],
  },
  NL: {
    weight: 8, currency: 'EUR', tld: 'nl',
    first: ['Daan', 'Emma', 'Sem', 'Julia', 'Lucas', 'Sanne', 'Thijs', 'Fleur', 'Bram', 'Anouk'],
    last: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'van Dijk', 'Bakker', 'Visser', 'Smit', 'Meijer', 'de Boer'],
    streets: ['Kerkstraat', 'Dorpsstraat', 'Stationsweg', 'Molenweg', 'Prinsengracht', 'Havenstraat'],
    cities: [['Amsterdam', '10'], ['Rotterdam', '30'], ['Utrecht', '35'], ['Eindhoven', '56'], ['Den Haag', '25'], ['Groningen', '97']],
    legalForms: ['B.V.', 'N.V.'],
    sectors: ['Techniek', 'Handel', 'Logistiek', 'Software', 'Installatie', 'Advies'],
  },
  ES: {
    weight: 8, currency: 'EUR', tld: 'es',
    first: ['Lucía', 'Hugo', 'Martina', 'Pablo', 'Sofía', 'Alejandro', 'Carmen', 'Javier', 'Elena', 'Diego'],
    last: ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez', 'Gómez', 'Ruiz'],
    streets: ['Calle Mayor', 'Avenida de la Constitución', 'Calle del Sol', 'Paseo de Gracia', 'Calle Real'],
    cities: [['Madrid', '280'], ['Barcelona', '080'], ['Valencia', '460'], ['Sevilla', '410'], ['Bilbao', '480'], ['Zaragoza', '500']],
    legalForms: ['S.L.', 'S.A.'],
    sectors: ['Servicios', 'Distribución', 'Ingeniería', 'Software', 'Construcciones', 'Logística'],
  },
  IT: {
    weight: 8, currency: 'EUR', tld: 'it',
    first: ['Giulia', 'Francesco', 'Chiara', 'Alessandro', 'Sara', 'Lorenzo', 'Martina', 'Matteo', 'Federica', 'Davide'],
    last: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco'],
    streets: ['Via Roma', 'Via Garibaldi', 'Corso Italia', 'Via Dante', 'Via Verdi', 'Viale Europa'],
    cities: [['Milano', '201'], ['Roma', '001'], ['Torino', '101'], ['Bologna', '401'], ['Firenze', '501'], ['Napoli', '801']],
    legalForms: ['S.r.l.', 'S.p.A.'],
    sectors: ['Meccanica', 'Servizi', 'Logistica', 'Software', 'Impianti', 'Commercio'],
  },
  SE: {
    weight: 6, currency: 'SEK', tld: 'se',
    first: ['Elsa', 'William', 'Alice', 'Oscar', 'Maja', 'Lucas', 'Ebba', 'Hugo', 'Astrid', 'Erik'],
    last: ['Andersson', 'Johansson', 'Karlsson', 'Nilsson', 'Eriksson', 'Larsson', 'Olsson', 'Persson', 'Svensson', 'Gustafsson'],
    streets: ['Storgatan', 'Drottninggatan', 'Kungsgatan', 'Vasagatan', 'Sveavägen', 'Skolgatan'],
    cities: [['Stockholm', '11'], ['Göteborg', '41'], ['Malmö', '21'], ['Uppsala', '75'], ['Västerås', '72'], ['Örebro', '70']],
    legalForms: ['AB'],
    sectors: ['Teknik', 'Logistik', 'Data', 'Handel', 'Bygg', 'Energi'],
  },
};

/** Company name stems; combined with a sector they give enough distinct names for large seeds. */
export const STEMS = [
  'Nord', 'Alpen', 'Blue', 'Orion', 'Vega', 'Atlas', 'Helios', 'Falk', 'Brück', 'Stern', 'Quadra', 'Linde', 'Terra',
  'Nova', 'Polar', 'Summit', 'Cedar', 'Iris', 'Delta', 'Kite', 'Aurora', 'Beacon', 'Crest', 'Harbor', 'Meridian',
  'Pioneer', 'Silva', 'Tulip', 'Viking', 'Zenit', 'Ardent', 'Borealis', 'Castell', 'Dynamo', 'Everest', 'Fjord',
];

export const JOB_TITLES = ['Head of Procurement', 'CFO', 'Purchasing Manager', 'IT Director', 'Operations Manager', 'CEO', 'Accounts Payable Clerk', 'Office Manager', 'Buyer', 'Controller'];
export const TAGS = [
  { id: 10101, name: 'newsletter' },
  { id: 10102, name: 'webinar-2025' },
  { id: 10103, name: 'trade-fair' },
  { id: 10104, name: 'product-updates' },
  { id: 10105, name: 'vip' },
];
export const TICKET_SUBJECTS = [
  'Invoice does not match the order', 'Cannot log in to the portal', 'Delivery arrived damaged', 'Request for updated price list',
  'Change of billing address', 'Question about payment terms', 'Export to CSV fails', 'Missing items in shipment',
  'Please update our VAT number', 'Credit note requested',
];

export const CALLING_CODES: Record<Country, string> = { DE: '49', FR: '33', GB: '44', US: '1', NL: '31', ES: '34', IT: '39', SE: '46' };

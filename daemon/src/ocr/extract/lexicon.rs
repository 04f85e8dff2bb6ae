//! Everyday words of shop names and receipts (English and Malay), to undo
//! OCR slips in a merchant name: `CONFECTIUNERY` → `CONFECTIONERY`. Only
//! general vocabulary: names of particular businesses or brands do not
//! belong here, since a word absent from the list is never changed.

use super::layout::distance;

/// Sorted, uppercase; checked by a unit test.
const WORDS: &[&str] = &[
    "ACCESSORIES",
    "AGENCY",
    "AIR",
    "AND",
    "APPAREL",
    "ARCADE",
    "ASIA",
    "AUTO",
    "BAKERIES",
    "BAKERS",
    "BAKERY",
    "BANDAR",
    "BAR",
    "BARBER",
    "BARU",
    "BATIK",
    "BATU",
    "BAZAAR",
    "BEAUTY",
    "BERHAD",
    "BESAR",
    "BEVERAGE",
    "BEVERAGES",
    "BHD",
    "BIG",
    "BINTANG",
    "BISTRO",
    "BLUE",
    "BOOK",
    "BOOKS",
    "BOOKSTORE",
    "BOUTIQUE",
    "BREAD",
    "BROTHERS",
    "BUILDING",
    "BUKIT",
    "BURGER",
    "BUTCHER",
    "CAFE",
    "CAHAYA",
    "CAKE",
    "CAKES",
    "CANTEEN",
    "CARE",
    "CARRY",
    "CASH",
    "CATERING",
    "CENTER",
    "CENTRE",
    "CHAIN",
    "CHEMICAL",
    "CHEMIST",
    "CHICKEN",
    "CHINESE",
    "CITY",
    "CLINIC",
    "CLOTHING",
    "CLUB",
    "COFFEE",
    "COLLECTION",
    "COMMUNICATION",
    "COMPANY",
    "COMPUTER",
    "CONFECTIONERY",
    "CONSTRUCTION",
    "CONVENIENCE",
    "COOKIES",
    "CORNER",
    "CORPORATION",
    "COSMETICS",
    "CRAFT",
    "CREATIVE",
    "CUISINE",
    "CURRY",
    "DAILY",
    "DAMAI",
    "DAN",
    "DELI",
    "DELIGHT",
    "DENTAL",
    "DEPARTMENT",
    "DESA",
    "DESIGN",
    "DESSERT",
    "DIGITAL",
    "DISCOUNT",
    "DISTRIBUTION",
    "DISTRIBUTOR",
    "DISTRIBUTORS",
    "DRINKS",
    "DRUG",
    "DRY",
    "EAST",
    "EATERY",
    "ELECTRIC",
    "ELECTRICAL",
    "ELECTRONIC",
    "ELECTRONICS",
    "ELEKTRIK",
    "EMAS",
    "EMPORIUM",
    "ENGINEERING",
    "ENTERPRISE",
    "ENTERPRISES",
    "EXPRESS",
    "F&B",
    "FAMILY",
    "FARM",
    "FASHION",
    "FISH",
    "FLORIST",
    "FLOWER",
    "FOOD",
    "FOODS",
    "FRESH",
    "FROZEN",
    "FRUIT",
    "FRUITS",
    "FURNITURE",
    "GALLERY",
    "GARDEN",
    "GAS",
    "GENERAL",
    "GIFT",
    "GIFTS",
    "GLASS",
    "GLASSWARE",
    "GLOBAL",
    "GOLD",
    "GOLDEN",
    "GOURMET",
    "GREEN",
    "GRILL",
    "GROCER",
    "GROCERY",
    "GROUP",
    "HALAL",
    "HARDWARE",
    "HEALTH",
    "HEALTHCARE",
    "HERBAL",
    "HOLDINGS",
    "HOME",
    "HOSPITAL",
    "HOTEL",
    "HOUSE",
    "HOUSEWARE",
    "HYPERMARKET",
    "ICE",
    "IMPORT",
    "INDAH",
    "INDIAN",
    "INDUSTRIAL",
    "INDUSTRIES",
    "INDUSTRY",
    "INTERNATIONAL",
    "JAPANESE",
    "JAYA",
    "JEWELLERY",
    "JUICE",
    "KAFE",
    "KAMPUNG",
    "KECIL",
    "KEDAI",
    "KITCHEN",
    "KOPITIAM",
    "KOREAN",
    "KOTA",
    "LAKSA",
    "LAMA",
    "LAUNDRY",
    "LIFESTYLE",
    "LIGHTING",
    "LIMITED",
    "LIVING",
    "LOGISTICS",
    "MACHINERY",
    "MAJU",
    "MAKAN",
    "MAKANAN",
    "MAKMUR",
    "MALAYSIA",
    "MALL",
    "MAMAK",
    "MANAGEMENT",
    "MANUFACTURING",
    "MARKET",
    "MARKETING",
    "MART",
    "MASTER",
    "MATERIAL",
    "MATERIALS",
    "MEAT",
    "MEDICAL",
    "MEE",
    "MEGAH",
    "METAL",
    "MINERAL",
    "MINIMARKET",
    "MOBILE",
    "MOTOR",
    "MOTORS",
    "MULIA",
    "MURNI",
    "MUTIARA",
    "NASI",
    "NATIONAL",
    "NATURAL",
    "NEW",
    "NOODLE",
    "NOODLES",
    "NURSERY",
    "NUTRITION",
    "OFFICE",
    "OPTICAL",
    "ORGANIC",
    "OUTLET",
    "OWNED",
    "OWNER",
    "PAINT",
    "PALACE",
    "PAPER",
    "PARTS",
    "PASAR",
    "PASIR",
    "PASTRY",
    "PERMAI",
    "PERNIAGAAN",
    "PET",
    "PETROL",
    "PHARMACEUTICAL",
    "PHARMACY",
    "PHOTO",
    "PIZZA",
    "PLASTIC",
    "PLAZA",
    "PRINT",
    "PRINTERS",
    "PRINTING",
    "PRODUCTS",
    "PROPERTY",
    "PUSAT",
    "PUTRA",
    "RAYA",
    "RED",
    "RESOURCES",
    "RESTAURANT",
    "RESTORAN",
    "RETAIL",
    "RICE",
    "ROTI",
    "ROYAL",
    "RUNCIT",
    "SALON",
    "SANITARY",
    "SATAY",
    "SEAFOOD",
    "SECURITY",
    "SELERA",
    "SERI",
    "SERVICE",
    "SERVICES",
    "SETIA",
    "SHOP",
    "SHOPPE",
    "SINAR",
    "SOLUTION",
    "SOLUTIONS",
    "SPA",
    "SPORT",
    "SPORTS",
    "SRI",
    "STAR",
    "STATION",
    "STATIONERY",
    "STEAMBOAT",
    "STEEL",
    "STORE",
    "STORES",
    "STUDIO",
    "SUNGAI",
    "SUPER",
    "SUPERMARKET",
    "SUPERSTORE",
    "SUPPLIES",
    "SUPPLY",
    "SUSHI",
    "SWEET",
    "SWEETS",
    "SYARIKAT",
    "TAILOR",
    "TAMAN",
    "TEA",
    "TECHNOLOGY",
    "TEXTILE",
    "THAI",
    "THE",
    "TILES",
    "TIMBER",
    "TOOLS",
    "TOYS",
    "TRADERS",
    "TRADING",
    "TRAVEL",
    "UNITED",
    "UTAMA",
    "VEGETABLE",
    "VEGETARIAN",
    "VENTURE",
    "VENTURES",
    "WAREHOUSE",
    "WATER",
    "WELLNESS",
    "WESTERN",
    "WHITE",
    "WHOLESALE",
    "WORKSHOP",
    "WORLD",
];

/// Whether the uppercase `word` is in the list.
pub fn known(word: &str) -> bool {
    WORDS.binary_search(&word).is_ok()
}

/// How far a word of this length may be from a listed one: none up to four
/// letters (too many names are one slip from a listed word: `JAYA`/`RAYA`,
/// `MING`/`MINI`), one up to seven, two from eight.
fn reach(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

/// The listed word an unlisted uppercase `word` is an OCR slip of, when
/// exactly one is nearest within reach.
pub fn correct(word: &str) -> Option<&'static str> {
    let len = word.chars().count();
    if known(word) || len > 20 || !word.chars().all(|c| c.is_ascii_alphanumeric() || c == '&') {
        return None;
    }
    if let Some(hit) = ampersand(word) {
        return Some(hit);
    }
    let limit = reach(len);
    if limit == 0 || word.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut best: Option<(usize, &'static str)> = None;
    let mut tie = false;
    for candidate in WORDS {
        // OCR drops or adds a letter, rarely two: `GARDENIA` is no
        // misread `GARDEN`.
        if candidate.len().abs_diff(len) > 1 {
            continue;
        }
        let d = distance(word, candidate, limit);
        if d > limit {
            continue;
        }
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, candidate));
                tie = false;
            }
        }
    }
    if tie { None } else { best.map(|(_, w)| w) }
}

/// `FRB`, `F8B`: a listed `X&Y` whose ampersand OCR read as a letter or
/// digit of the same shape.
fn ampersand(word: &str) -> Option<&'static str> {
    let chars: Vec<char> = word.chars().collect();
    let [a, mid, b] = chars.as_slice() else {
        return None;
    };
    if !matches!(mid, 'R' | '8' | 'G') {
        return None;
    }
    WORDS.iter().copied().find(|w| {
        let c: Vec<char> = w.chars().collect();
        c.len() == 3 && c[0] == *a && c[1] == '&' && c[2] == *b
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_uppercase() {
        assert!(WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(WORDS.iter().all(|w| w.to_uppercase() == *w));
    }
}

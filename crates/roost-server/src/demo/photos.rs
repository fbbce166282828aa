//! Listing photos for the demo company, drawn at seed time (no image files in the repo):
//! stylised villa, tower and interior scenes, varied by a seed, encoded as JPEG.
//!
//! Drawing works in horizontal spans filled by doubling `copy_within`, so it stays quick in
//! an unoptimised build; the encoder (a dependency) is what most of the time goes to.

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;

pub const WIDTH: usize = 800;
pub const HEIGHT: usize = 533;
const QUALITY: u8 = 80;

/// What a photo shows; listings get exteriors that fit their type, and interiors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    Villa,
    Tower,
    Interior,
}

impl Scene {
    pub const ALL: [Scene; 3] = [Scene::Villa, Scene::Tower, Scene::Interior];
}

/// One JPEG of `scene`, the same for the same seed.
pub fn render(scene: Scene, seed: u64) -> Vec<u8> {
    let mut c = Canvas::new(WIDTH, HEIGHT);
    let mut rng = Rng::new(seed ^ (scene as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    match scene {
        Scene::Villa => villa(&mut c, &mut rng),
        Scene::Tower => tower(&mut c, &mut rng),
        Scene::Interior => interior(&mut c, &mut rng),
    }
    c.grain(&mut rng);
    let mut out = Vec::with_capacity(64 * 1024);
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode(&c.px, WIDTH as u32, HEIGHT as u32, ExtendedColorType::Rgb8)
        .expect("encoding into memory cannot fail");
    out
}

type Rgb = [u8; 3];

/// SplitMix64: tiny, and the same sequence on every platform and version.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `lo..hi` (`lo` when the range is empty).
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % (hi - lo) as u64) as i32
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    /// One of `items`, varied by up to `by`.
    fn vary_pick(&mut self, items: &[Rgb], by: i32) -> Rgb {
        let c = self.pick(items);
        self.vary(c, by)
    }

    /// `c` with each channel moved by up to `by`.
    fn vary(&mut self, c: Rgb, by: i32) -> Rgb {
        c.map(|v| (i32::from(v) + self.range(-by, by + 1)).clamp(0, 255) as u8)
    }
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t).round() as u8)
}

fn shade(c: Rgb, factor: f32) -> Rgb {
    c.map(|v| (f32::from(v) * factor).clamp(0.0, 255.0) as u8)
}

struct Canvas {
    w: i32,
    h: i32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Canvas {
        Canvas {
            w: w as i32,
            h: h as i32,
            px: vec![0; w * h * 3],
        }
    }

    /// Fills row `y` from `x0` up to `x1` (clipped).
    fn span(&mut self, y: i32, x0: i32, x1: i32, c: Rgb) {
        if y < 0 || y >= self.h {
            return;
        }
        let (x0, x1) = (x0.clamp(0, self.w), x1.clamp(0, self.w));
        if x0 >= x1 {
            return;
        }
        let row = (y * self.w) as usize * 3;
        let seg = &mut self.px[row + x0 as usize * 3..row + x1 as usize * 3];
        seg[..3].copy_from_slice(&c);
        let mut filled = 3;
        while filled < seg.len() {
            let n = filled.min(seg.len() - filled);
            seg.copy_within(..n, filled);
            filled += n;
        }
    }

    fn rect(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: Rgb) {
        for y in y0.max(0)..y1.min(self.h) {
            self.span(y, x0, x1, c);
        }
    }

    /// A rectangle shading from `top` to `bottom`.
    fn vgradient(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, top: Rgb, bottom: Rgb) {
        let h = (y1 - y0).max(1) as f32;
        for y in y0.max(0)..y1.min(self.h) {
            self.span(y, x0, x1, mix(top, bottom, (y - y0) as f32 / h));
        }
    }

    fn ellipse(&mut self, cx: i32, cy: i32, rx: i32, ry: i32, c: Rgb) {
        let (rx, ry) = (rx.max(1), ry.max(1));
        for dy in -ry..=ry {
            let t = 1.0 - (dy as f32 / ry as f32).powi(2);
            let half = (rx as f32 * t.max(0.0).sqrt()).round() as i32;
            self.span(cy + dy, cx - half, cx + half + 1, c);
        }
    }

    /// A filled triangle, scanned row by row.
    fn triangle(&mut self, a: (i32, i32), b: (i32, i32), c: (i32, i32), color: Rgb) {
        let mut p = [a, b, c];
        p.sort_by_key(|q| q.1);
        let [(x0, y0), (x1, y1), (x2, y2)] = p;
        let at = |xa: i32, ya: i32, xb: i32, yb: i32, y: i32| -> f32 {
            if yb == ya {
                xa as f32
            } else {
                xa as f32 + (xb - xa) as f32 * (y - ya) as f32 / (yb - ya) as f32
            }
        };
        for y in y0.max(0)..=y2.min(self.h - 1) {
            let long = at(x0, y0, x2, y2, y);
            let short = if y < y1 {
                at(x0, y0, x1, y1, y)
            } else {
                at(x1, y1, x2, y2, y)
            };
            let (l, r) = if long < short {
                (long, short)
            } else {
                (short, long)
            };
            self.span(y, l.round() as i32, r.round() as i32 + 1, color);
        }
    }

    /// Darkens or lightens a rectangle towards `c` by `alpha` (0–255): haze, shadows.
    fn blend(&mut self, x0: i32, y0: i32, x1: i32, y1: i32, c: Rgb, alpha: u16) {
        let (x0, x1) = (x0.clamp(0, self.w), x1.clamp(0, self.w));
        for y in y0.max(0)..y1.min(self.h) {
            let row = (y * self.w) as usize * 3;
            let seg = &mut self.px[row + x0 as usize * 3..row + x1 as usize * 3];
            for (i, v) in seg.iter_mut().enumerate() {
                let t = u16::from(c[i % 3]);
                *v = ((u16::from(*v) * (255 - alpha) + t * alpha) / 255) as u8;
            }
        }
    }

    /// A little sensor noise on every other row, so the JPEG looks (and weighs) like a photo
    /// rather than a flat illustration.
    fn grain(&mut self, rng: &mut Rng) {
        for y in (0..self.h).step_by(2) {
            let row = (y * self.w) as usize * 3;
            let mut bits = rng.next();
            for x in 0..self.w as usize {
                if x.is_multiple_of(16) {
                    bits = rng.next();
                }
                let d = ((bits >> ((x % 16) * 4)) & 0x7) as i16 - 3;
                for ch in 0..3 {
                    let v = &mut self.px[row + x * 3 + ch];
                    *v = (i16::from(*v) + d).clamp(0, 255) as u8;
                }
            }
        }
    }
}

const SKIES: &[(Rgb, Rgb)] = &[
    ([62, 122, 196], [188, 214, 236]),  // clear day
    ([88, 118, 178], [246, 196, 138]),  // golden hour
    ([146, 172, 198], [228, 226, 214]), // hazy summer
    ([44, 54, 112], [232, 146, 112]),   // dusk
    ([96, 150, 210], [214, 230, 242]),  // bright morning
];

const FACADES: &[Rgb] = &[
    [236, 228, 212],
    [244, 242, 236],
    [222, 204, 176],
    [206, 198, 188],
    [232, 214, 190],
    [198, 176, 150],
];

const GLASS: &[Rgb] = &[
    [92, 128, 156],
    [70, 98, 122],
    [128, 164, 188],
    [58, 72, 88],
    [110, 140, 150],
];

const LIT: Rgb = [250, 214, 140];

fn sky(c: &mut Canvas, rng: &mut Rng, horizon: i32) {
    let (top, bottom) = rng.pick(SKIES);
    let (top, bottom) = (rng.vary(top, 8), rng.vary(bottom, 8));
    c.vgradient(0, 0, c.w, horizon, top, bottom);
    if rng.chance(50) {
        let x = rng.range(60, c.w - 60);
        let y = rng.range(horizon / 5, horizon * 2 / 3);
        c.ellipse(x, y, 26, 26, mix(bottom, [255, 248, 224], 0.85));
    }
    // A few flat clouds.
    for _ in 0..rng.range(0, 4) {
        let x = rng.range(0, c.w);
        let y = rng.range(20, horizon / 2 + 20);
        let cloud = mix(top, [255, 255, 255], 0.55);
        c.ellipse(x, y, rng.range(50, 110), rng.range(8, 16), cloud);
        c.ellipse(x + 30, y - 8, rng.range(30, 60), rng.range(8, 14), cloud);
    }
}

/// A window with a frame, glass (sometimes lit) and a reflection.
fn window(c: &mut Canvas, rng: &mut Rng, x: i32, y: i32, w: i32, h: i32, frame: Rgb) {
    c.rect(x - 3, y - 3, x + w + 3, y + h + 3, frame);
    let glass = if rng.chance(15) {
        rng.vary(LIT, 10)
    } else {
        rng.vary_pick(GLASS, 12)
    };
    c.vgradient(x, y, x + w, y + h, shade(glass, 1.15), shade(glass, 0.85));
    c.triangle(
        (x, y),
        (x + w / 2, y),
        (x, y + h * 2 / 3),
        mix(glass, [255, 255, 255], 0.25),
    );
    if w > 60 {
        c.rect(x + w / 2 - 1, y, x + w / 2 + 2, y + h, frame);
    }
}

fn palm(c: &mut Canvas, rng: &mut Rng, x: i32, ground: i32, height: i32) {
    let trunk = rng.vary([128, 100, 72], 10);
    let top = ground - height;
    let lean = rng.range(-14, 15);
    c.triangle((x - 6, ground), (x + 6, ground), (x + lean, top), trunk);
    let leaf = rng.vary([46, 108, 52], 14);
    for (dx, dy) in [
        (-70, 18),
        (-55, 40),
        (-30, 55),
        (30, 55),
        (55, 40),
        (70, 18),
        (0, -30),
        (-40, -18),
        (40, -18),
    ] {
        let tip = (x + lean + dx, top + dy);
        c.triangle((x + lean - 7, top - 3), (x + lean + 7, top + 5), tip, leaf);
        c.triangle(
            (x + lean - 3, top + 6),
            (x + lean + 3, top - 6),
            tip,
            shade(leaf, 0.85),
        );
    }
}

fn hedge(c: &mut Canvas, rng: &mut Rng, x0: i32, x1: i32, ground: i32, h: i32) {
    let green = rng.vary([52, 96, 48], 10);
    c.rect(x0, ground - h, x1, ground, green);
    let mut x = x0;
    while x < x1 {
        c.ellipse(x + 12, ground - h, 14, 8, shade(green, 1.1));
        x += 22;
    }
}

fn villa(c: &mut Canvas, rng: &mut Rng) {
    let horizon = c.h * rng.range(50, 58) / 100;
    sky(c, rng, horizon);
    // Distant trees along the horizon.
    let far = rng.vary([88, 118, 86], 10);
    let mut x = -20;
    while x < c.w {
        c.ellipse(x, horizon, rng.range(30, 60), rng.range(10, 26), far);
        x += rng.range(30, 70);
    }
    let lawn = rng.vary([102, 150, 74], 10);
    c.vgradient(0, horizon, c.w, c.h, lawn, shade(lawn, 0.7));

    let ground = c.h * rng.range(74, 80) / 100;
    let x0 = c.w * rng.range(12, 24) / 100;
    let x1 = c.w * rng.range(72, 88) / 100;
    let storey = rng.range(96, 120);
    let storeys = rng.range(1, 3);
    let wall = rng.vary_pick(FACADES, 6);
    let frame = if rng.chance(50) {
        [52, 52, 56]
    } else {
        [240, 240, 236]
    };
    let top = ground - storey * storeys;
    c.rect(x0, top, x1, ground, wall);
    // A set-back upper floor or a pitched tiled roof.
    if storeys == 2 && rng.chance(50) {
        let inset = (x1 - x0) / rng.range(4, 7);
        c.rect(
            x0,
            top,
            x0 + inset,
            top + storey,
            c_sky_at(c, top + storey / 2),
        );
        c.rect(
            x0 - 6,
            top + storey - 8,
            x1 + 6,
            top + storey,
            shade(wall, 0.8),
        );
    }
    if rng.chance(40) {
        let tile = rng.vary([168, 86, 58], 12);
        c.triangle(
            (x0 - 18, top),
            (x1 + 18, top),
            ((x0 + x1) / 2, top - storey * 2 / 3),
            tile,
        );
    } else {
        c.rect(x0 - 8, top - 10, x1 + 8, top, shade(wall, 0.82));
    }
    c.blend(x0, top, x1, top + 14, [0, 0, 0], 50);
    // The door, then windows: a row per storey, widths and heights varied, none over the door.
    let door_x = rng.range(x0 + 40, x1 - 80);
    let door = rng.vary([112, 78, 50], 12);
    c.rect(door_x, ground - 78, door_x + 38, ground, door);
    for s in 0..storeys {
        let base = ground - storey * s;
        let mut x = x0 + rng.range(18, 40);
        while x < x1 - 60 {
            let w = rng.range(40, 110).min(x1 - 30 - x);
            let h = rng.range(48, storey - 30);
            if s == 0 && x < door_x + 52 && x + w > door_x - 14 {
                x = door_x + 52;
                continue;
            }
            if w > 24 {
                window(c, rng, x, base - h - 16, w, h, frame);
            }
            x += w + rng.range(22, 50);
        }
    }
    // Pool and deck in front, or a driveway.
    let deck = rng.vary([222, 214, 198], 6);
    c.rect(0, ground, c.w, ground + 10, shade(deck, 0.85));
    if rng.chance(70) {
        let py = ground + rng.range(22, 34);
        let (pl, pr) = (rng.range(40, 200), c.w - rng.range(40, 200));
        c.rect(pl - 16, py - 10, pr + 16, c.h, deck);
        c.vgradient(
            pl,
            py,
            pr,
            c.h,
            rng.vary([104, 206, 222], 10),
            [38, 150, 180],
        );
        for i in 0..6 {
            let y = py + 10 + i * 16 + rng.range(0, 6);
            let x = rng.range(pl, pr - 120);
            c.rect(x, y, x + rng.range(40, 120), y + 2, [170, 232, 240]);
        }
    } else {
        c.vgradient(0, ground + 10, c.w, c.h, [196, 190, 180], [160, 154, 146]);
    }
    let (left, right) = (rng.range(24, 40), rng.range(24, 40));
    hedge(c, rng, 0, x0 - 10, ground, left);
    hedge(c, rng, x1 + 10, c.w, ground, right);
    for _ in 0..rng.range(1, 4) {
        let x = if rng.chance(50) {
            rng.range(10, x0 + 30)
        } else {
            rng.range(x1 - 30, c.w - 10)
        };
        let height = rng.range(170, 260);
        palm(c, rng, x, ground + 6, height);
    }
}

/// The colour of the sky at row `y`, for cut-outs (read back from the canvas).
fn c_sky_at(c: &Canvas, y: i32) -> Rgb {
    let i = (y.clamp(0, c.h - 1) * c.w) as usize * 3;
    [c.px[i], c.px[i + 1], c.px[i + 2]]
}

fn tower(c: &mut Canvas, rng: &mut Rng) {
    let horizon = c.h * rng.range(66, 74) / 100;
    sky(c, rng, horizon);
    let haze = c_sky_at(c, horizon - 1);
    // Background towers, hazy.
    let mut x = -30;
    while x < c.w {
        let w = rng.range(40, 90);
        let top = rng.range(horizon / 4, horizon - 40);
        let body = mix(rng.vary([120, 134, 150], 12), haze, 0.5);
        c.rect(x, top, x + w, horizon, body);
        let mut y = top + 8;
        while y < horizon {
            c.rect(x + 4, y, x + w - 4, y + 3, shade(body, 1.08));
            y += 10;
        }
        x += w + rng.range(6, 30);
    }
    // The tower itself.
    let w = c.w * rng.range(30, 44) / 100;
    let x0 = rng.range(c.w / 8, c.w - w - c.w / 8);
    let top = rng.range(-40, c.h / 6);
    let frame = rng.vary_pick(&[[210, 214, 218], [70, 76, 84], [228, 222, 210]], 6);
    c.rect(x0, top, x0 + w, horizon + 10, frame);
    if top > 10 {
        c.rect(x0 + w / 3, top - 40, x0 + w * 2 / 3, top, frame);
        c.rect(x0 + w / 2 - 2, top - 90, x0 + w / 2 + 2, top - 40, frame);
    }
    let floor = rng.range(14, 22);
    let col = rng.range(18, 32);
    let glass = rng.pick(GLASS);
    let band = rng.range(15, 80) as f32 / 100.0;
    let mut y = top + 8;
    while y < horizon {
        let mut x = x0 + 5;
        while x + col - 4 <= x0 + w - 5 {
            let down = (y - top) as f32 / (horizon - top) as f32;
            let pane = if rng.chance(8) {
                rng.vary(LIT, 12)
            } else {
                mix(rng.vary(glass, 10), haze, down * 0.3)
            };
            // The sky reflected in a diagonal band across the glass.
            let diagonal = (x - x0) as f32 / w as f32 + down;
            let pane = if (band..band + 0.3).contains(&diagonal) {
                mix(pane, [255, 255, 255], 0.22)
            } else {
                pane
            };
            c.rect(x, y, x + col - 4, y + floor - 4, pane);
            x += col;
        }
        y += floor;
    }
    // Marina water or a promenade with palms.
    if rng.chance(60) {
        let water = rng.vary([40, 96, 128], 10);
        c.vgradient(0, horizon, c.w, c.h, shade(water, 1.2), shade(water, 0.7));
        for _ in 0..40 {
            let y = rng.range(horizon + 4, c.h);
            let x = rng.range(0, c.w);
            c.rect(x, y, x + rng.range(20, 80), y + 2, shade(water, 1.45));
        }
        c.rect(0, horizon, c.w, horizon + 6, [200, 196, 186]);
    } else {
        c.vgradient(0, horizon, c.w, c.h, [208, 202, 190], [170, 162, 150]);
        let ground = c.h - 20;
        for i in 0..rng.range(2, 5) {
            let x = 60 + i * (c.w - 120) / 4 + rng.range(-20, 20);
            let height = rng.range(150, 220);
            palm(c, rng, x, ground, height);
        }
    }
}

fn interior(c: &mut Canvas, rng: &mut Rng) {
    let wall = rng.vary_pick(&[[236, 232, 224], [226, 220, 208], [214, 218, 216]], 6);
    let floor_y = c.h * rng.range(66, 74) / 100;
    c.vgradient(0, 0, c.w, floor_y, shade(wall, 0.92), wall);
    // Wooden floor in planks.
    let wood = rng.vary_pick(&[[176, 134, 92], [150, 110, 76], [198, 170, 132]], 8);
    let mut y = floor_y;
    let mut i = 0;
    while y < c.h {
        let plank = (y - floor_y) / 6 + 8;
        c.rect(
            0,
            y,
            c.w,
            y + plank,
            shade(wood, 0.92 + 0.08 * (i % 2) as f32),
        );
        c.rect(0, y + plank - 1, c.w, y + plank, shade(wood, 0.7));
        y += plank;
        i += 1;
    }
    c.rect(0, floor_y - 6, c.w, floor_y, shade(wall, 0.8));
    // A wide window with the view.
    let (wx0, wx1) = (rng.range(30, 200), c.w - rng.range(30, 200));
    let (wy0, wy1) = (rng.range(30, 70), floor_y - rng.range(30, 60));
    let (top, bottom) = rng.pick(SKIES);
    c.rect(wx0 - 8, wy0 - 8, wx1 + 8, wy1 + 8, [246, 246, 244]);
    c.vgradient(wx0, wy0, wx1, wy1, top, bottom);
    let mut x = wx0;
    while x < wx1 {
        let w = rng.range(20, 50);
        let h = rng.range((wy1 - wy0) / 5, (wy1 - wy0) * 3 / 4);
        c.rect(
            x,
            wy1 - h,
            (x + w).min(wx1),
            wy1,
            mix([110, 124, 140], bottom, 0.45),
        );
        x += w + rng.range(4, 20);
    }
    let mut x = wx0 + (wx1 - wx0) / 3;
    while x < wx1 {
        c.rect(x - 3, wy0, x + 3, wy1, [246, 246, 244]);
        x += (wx1 - wx0) / 3;
    }
    // Rug, sofa, coffee table, a plant and a pendant lamp.
    let rug = rng.vary_pick(&[[188, 176, 160], [150, 160, 170], [196, 168, 150]], 10);
    c.rect(c.w / 6, c.h - 90, c.w * 5 / 6, c.h - 20, rug);
    let fabric = rng.vary_pick(
        &[
            [120, 128, 138],
            [84, 96, 120],
            [198, 188, 170],
            [150, 120, 96],
        ],
        10,
    );
    let (sx0, sx1) = (
        c.w / 5 + rng.range(-40, 40),
        c.w * 4 / 5 + rng.range(-40, 40),
    );
    let seat = floor_y + 10;
    c.rect(sx0, seat - 70, sx1, seat - 20, shade(fabric, 0.9));
    c.rect(sx0 - 16, seat - 40, sx1 + 16, seat + 14, fabric);
    c.rect(sx0 - 24, seat - 56, sx0, seat + 14, shade(fabric, 0.85));
    c.rect(sx1, seat - 56, sx1 + 24, seat + 14, shade(fabric, 0.85));
    let cushions = rng.range(2, 5);
    for k in 0..cushions {
        let cx = sx0 + 30 + k * (sx1 - sx0 - 60) / cushions.max(1);
        c.rect(
            cx,
            seat - 62,
            cx + 48,
            seat - 26,
            rng.vary_pick(&[[214, 204, 186], [196, 120, 84], [90, 120, 110]], 10),
        );
    }
    let table = rng.vary([84, 62, 46], 8);
    let ty = c.h - 60;
    c.rect(c.w / 3, ty, c.w * 2 / 3, ty + 12, table);
    c.rect(
        c.w / 3 + 10,
        ty + 12,
        c.w / 3 + 18,
        ty + 40,
        shade(table, 0.8),
    );
    c.rect(
        c.w * 2 / 3 - 18,
        ty + 12,
        c.w * 2 / 3 - 10,
        ty + 40,
        shade(table, 0.8),
    );
    let px = if rng.chance(50) { 40 } else { c.w - 80 };
    c.rect(px, floor_y - 40, px + 40, floor_y + 10, [204, 196, 186]);
    for (dx, dy, r) in [(20, -70, 28), (0, -100, 22), (40, -105, 24), (20, -130, 20)] {
        c.ellipse(px + dx, floor_y + dy, r, r, rng.vary([60, 112, 62], 12));
    }
    let lx = rng.range(c.w / 4, c.w * 3 / 4);
    c.rect(lx - 1, 0, lx + 1, 60, [60, 60, 60]);
    c.ellipse(lx, 72, 26, 14, rng.vary([232, 200, 140], 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_are_jpegs_of_photo_size_and_vary_by_seed() {
        for scene in Scene::ALL {
            let a = render(scene, 1);
            let b = render(scene, 2);
            assert_eq!(&a[..3], &[0xFF, 0xD8, 0xFF], "{scene:?} is a JPEG");
            assert_ne!(a, b, "{scene:?} varies by seed");
            assert_eq!(a, render(scene, 1), "{scene:?} is deterministic");
            for jpeg in [&a, &b] {
                assert!(
                    (12_000..90_000).contains(&jpeg.len()),
                    "{scene:?}: {} bytes",
                    jpeg.len()
                );
            }
        }
    }
}

//! The mask: a classical, deterministic segmentation with no model weights. The image's
//! luminance (Rec. 601) is split in two by Otsu's threshold (the split that maximises the
//! between-class variance of the histogram); the class that covers less of the image's border
//! is the foreground (objects tend not to touch the frame); its 4-connected components are the
//! regions, the largest first, and regions smaller than [`MIN_REGION_SHARE`] of the image are
//! dropped as noise. The mask is an 8-bit grayscale PNG of the image's size: 255 on a kept
//! region, 0 elsewhere.

use std::io::Cursor;

use image::codecs::png::PngEncoder;
use image::{GrayImage, ImageEncoder, ImageFormat, Luma};
use serde::Serialize;

/// What the metadata calls the method.
pub const ALGORITHM: &str = "otsu-luminance+connected-components-4";
/// Regions below this share of the pixels (or 16 pixels) are noise.
const MIN_REGION_SHARE: f64 = 0.001;
/// At most this many regions are reported as labels (all kept regions are in the mask).
const MAX_LABELS: usize = 50;
/// Larger images are refused before decoding (a 100-megapixel PNG is a few hundred kilobytes).
pub const MAX_PIXELS: u64 = 40_000_000;

/// One region of the mask, as reported in the task's `labels`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub label: String,
    /// Pixels in the region.
    pub area: u64,
    /// The region's share of the image, 0..1: the "score" a model would give.
    pub score: f64,
    /// `[x, y, width, height]`
    pub bbox: [u32; 4],
    pub centroid: [f64; 2],
}

/// A computed mask.
#[derive(Debug)]
pub struct Mask {
    pub width: u32,
    pub height: u32,
    pub threshold: u8,
    pub foreground_is_dark: bool,
    pub regions: Vec<Region>,
    pub image: GrayImage,
}

/// Why an image has no mask.
#[derive(Debug, PartialEq, Eq)]
pub enum MaskError {
    /// Not a PNG, JPEG or WebP, or damaged.
    Undecodable(String),
    TooLarge {
        width: u32,
        height: u32,
    },
}

impl std::fmt::Display for MaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Undecodable(e) => write!(f, "the image could not be decoded: {e}"),
            Self::TooLarge { width, height } => write!(
                f,
                "the image is {width}x{height}, more than {MAX_PIXELS} pixels"
            ),
        }
    }
}

/// Decodes `bytes` (PNG, JPEG or WebP, recognised by content) and computes its mask.
pub fn mask_of_encoded(bytes: &[u8]) -> Result<Mask, MaskError> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MaskError::Undecodable(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => {
            return Err(MaskError::Undecodable(
                "not a PNG, JPEG or WebP image".into(),
            ));
        }
    }
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| MaskError::Undecodable(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(MaskError::Undecodable("the image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MaskError::TooLarge { width, height });
    }
    let decoded =
        image::load_from_memory(bytes).map_err(|e| MaskError::Undecodable(e.to_string()))?;
    Ok(mask_of_luma(&decoded.to_luma8()))
}

/// The mask of a grayscale image (see the module doc).
pub fn mask_of_luma(luma: &GrayImage) -> Mask {
    let (width, height) = luma.dimensions();
    let threshold = otsu_threshold(&histogram(luma));
    let bright = |x: u32, y: u32| luma.get_pixel(x, y).0[0] > threshold;
    let foreground_is_dark = border_share(width, height, bright) > 0.5;
    let foreground = |x: u32, y: u32| bright(x, y) != foreground_is_dark;

    let total = u64::from(width) * u64::from(height);
    let min_area = ((total as f64 * MIN_REGION_SHARE).ceil() as u64).max(16);
    let mut components = components(width, height, foreground);
    components.regions.retain(|r| r.area >= min_area);
    components
        .regions
        .sort_by(|a, b| b.area.cmp(&a.area).then(a.first.cmp(&b.first)));

    let kept: std::collections::HashSet<u32> = components.regions.iter().map(|r| r.id).collect();
    let image = GrayImage::from_fn(width, height, |x, y| {
        let id = components.ids[(y as usize) * (width as usize) + x as usize];
        Luma([if id != 0 && kept.contains(&id) {
            255
        } else {
            0
        }])
    });
    let regions = components
        .regions
        .iter()
        .take(MAX_LABELS)
        .enumerate()
        .map(|(rank, r)| Region {
            label: format!("region-{}", rank + 1),
            area: r.area,
            score: r.area as f64 / total as f64,
            bbox: [
                r.min_x,
                r.min_y,
                r.max_x - r.min_x + 1,
                r.max_y - r.min_y + 1,
            ],
            centroid: [
                r.sum_x as f64 / r.area as f64,
                r.sum_y as f64 / r.area as f64,
            ],
        })
        .collect();
    Mask {
        width,
        height,
        threshold,
        foreground_is_dark,
        regions,
        image,
    }
}

impl Mask {
    /// The mask as a PNG.
    pub fn to_png(&self) -> Vec<u8> {
        let mut png = Vec::new();
        PngEncoder::new(&mut png)
            .write_image(
                self.image.as_raw(),
                self.width,
                self.height,
                image::ExtendedColorType::L8,
            )
            .expect("encoding an in-memory grayscale image cannot fail");
        png
    }
}

fn histogram(luma: &GrayImage) -> [u64; 256] {
    let mut counts = [0u64; 256];
    for p in luma.pixels() {
        counts[usize::from(p.0[0])] += 1;
    }
    counts
}

/// Otsu's method: the threshold `t` (pixels `<= t` against `> t`) that maximises the
/// between-class variance `w0 * w1 * (m0 - m1)^2`; the lowest such `t` on ties. A uniform image
/// gives 255 minus nothing: every pixel falls in one class.
pub fn otsu_threshold(counts: &[u64; 256]) -> u8 {
    let total: u64 = counts.iter().sum();
    let sum_all: f64 = counts
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut below, mut sum_below) = (0u64, 0f64);
    let (mut best, mut best_t) = (-1f64, 0u8);
    for t in 0..=255u8 {
        below += counts[usize::from(t)];
        sum_below += f64::from(t) * counts[usize::from(t)] as f64;
        let above = total - below;
        if below == 0 || above == 0 {
            continue;
        }
        let (w0, w1) = (below as f64, above as f64);
        let (m0, m1) = (sum_below / w0, (sum_all - sum_below) / w1);
        let variance = w0 * w1 * (m0 - m1) * (m0 - m1);
        if variance > best {
            (best, best_t) = (variance, t);
        }
    }
    if best < 0.0 {
        // One value only: everything is "not above" it.
        counts.iter().rposition(|&c| c > 0).unwrap_or(0) as u8
    } else {
        best_t
    }
}

/// The share of the border pixels for which `bright` holds.
fn border_share(width: u32, height: u32, bright: impl Fn(u32, u32) -> bool) -> f64 {
    let mut on = 0u64;
    let mut all = 0u64;
    for x in 0..width {
        for y in [0, height - 1] {
            all += 1;
            on += u64::from(bright(x, y));
        }
    }
    for y in 1..height.saturating_sub(1) {
        for x in [0, width - 1] {
            all += 1;
            on += u64::from(bright(x, y));
        }
    }
    on as f64 / all as f64
}

struct Component {
    id: u32,
    /// The first pixel (row-major) of the component: a stable tie-break for equal areas.
    first: u64,
    area: u64,
    min_x: u32,
    min_y: u32,
    max_x: u32,
    max_y: u32,
    sum_x: u64,
    sum_y: u64,
}

struct Components {
    /// Per pixel, row-major: 0 for background, else the component's id.
    ids: Vec<u32>,
    regions: Vec<Component>,
}

/// 4-connected components of the pixels where `foreground` holds (an explicit stack, so a
/// large region cannot overflow the call stack).
fn components(width: u32, height: u32, foreground: impl Fn(u32, u32) -> bool) -> Components {
    let (w, h) = (width as usize, height as usize);
    let mut ids = vec![0u32; w * h];
    let mut regions = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        let (sx, sy) = ((start % w) as u32, (start / w) as u32);
        if ids[start] != 0 || !foreground(sx, sy) {
            continue;
        }
        let id = regions.len() as u32 + 1;
        let mut c = Component {
            id,
            first: start as u64,
            area: 0,
            min_x: sx,
            min_y: sy,
            max_x: sx,
            max_y: sy,
            sum_x: 0,
            sum_y: 0,
        };
        ids[start] = id;
        stack.push((sx, sy));
        while let Some((x, y)) = stack.pop() {
            c.area += 1;
            c.sum_x += u64::from(x);
            c.sum_y += u64::from(y);
            c.min_x = c.min_x.min(x);
            c.max_x = c.max_x.max(x);
            c.min_y = c.min_y.min(y);
            c.max_y = c.max_y.max(y);
            let neighbours = [
                (x.wrapping_sub(1), y),
                (x + 1, y),
                (x, y.wrapping_sub(1)),
                (x, y + 1),
            ];
            for (nx, ny) in neighbours {
                if nx >= width || ny >= height {
                    continue;
                }
                let i = ny as usize * w + nx as usize;
                if ids[i] == 0 && foreground(nx, ny) {
                    ids[i] = id;
                    stack.push((nx, ny));
                }
            }
        }
        regions.push(c);
    }
    Components { ids, regions }
}

#[cfg(test)]
mod tests {
    use image::{DynamicImage, Rgb, RgbImage};

    use super::*;

    /// A dark 64x48 picture with two bright squares (20x20 at (5,5), 10x10 at (40,30)) and one
    /// bright pixel of noise.
    fn two_squares() -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| {
            let big = (5..25).contains(&x) && (5..25).contains(&y);
            let small = (40..50).contains(&x) && (30..40).contains(&y);
            let noise = (x, y) == (60, 2);
            if big || small || noise {
                Rgb([230, 220, 200])
            } else {
                Rgb([20, 30, 40])
            }
        })
    }

    fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn otsu_splits_a_bimodal_histogram_between_its_modes() {
        let mut counts = [0u64; 256];
        counts[30] = 500;
        counts[200] = 300;
        let t = otsu_threshold(&counts);
        assert!((30..200).contains(&t), "{t}");
        // Uniform: one class, nothing above the threshold.
        let mut one = [0u64; 256];
        one[77] = 10;
        assert_eq!(otsu_threshold(&one), 77);
    }

    #[test]
    fn bright_objects_on_a_dark_ground_become_regions_largest_first() {
        let mask = mask_of_encoded(&encode(
            DynamicImage::ImageRgb8(two_squares()),
            ImageFormat::Png,
        ))
        .unwrap();
        assert_eq!((mask.width, mask.height), (64, 48));
        assert!(!mask.foreground_is_dark);
        let areas: Vec<(u64, [u32; 4])> = mask.regions.iter().map(|r| (r.area, r.bbox)).collect();
        assert_eq!(
            areas,
            vec![(400, [5, 5, 20, 20]), (100, [40, 30, 10, 10])],
            "the noise pixel is dropped"
        );
        assert_eq!(mask.regions[0].label, "region-1");
        assert_eq!(mask.regions[0].centroid, [14.5, 14.5]);
        assert_eq!(mask.image.get_pixel(10, 10).0, [255]);
        assert_eq!(mask.image.get_pixel(45, 35).0, [255]);
        assert_eq!(mask.image.get_pixel(60, 2).0, [0]);
        assert_eq!(mask.image.get_pixel(0, 0).0, [0]);
        assert_eq!(mask.image.pixels().filter(|p| p.0[0] == 255).count(), 500);
    }

    #[test]
    fn dark_objects_on_a_bright_ground_are_the_foreground() {
        let inverted = RgbImage::from_fn(64, 48, |x, y| {
            let Rgb([r, g, b]) = *two_squares().get_pixel(x, y);
            Rgb([255 - r, 255 - g, 255 - b])
        });
        let mask = mask_of_luma(&DynamicImage::ImageRgb8(inverted).to_luma8());
        assert!(mask.foreground_is_dark);
        assert_eq!(
            mask.regions.iter().map(|r| r.area).collect::<Vec<_>>(),
            vec![400, 100]
        );
    }

    #[test]
    fn the_png_has_the_images_size_and_decodes_to_the_same_mask() {
        let mask = mask_of_encoded(&encode(
            DynamicImage::ImageRgb8(two_squares()),
            ImageFormat::Png,
        ))
        .unwrap();
        let png = mask.to_png();
        let back = image::load_from_memory_with_format(&png, ImageFormat::Png)
            .unwrap()
            .to_luma8();
        assert_eq!(back.dimensions(), (64, 48));
        assert_eq!(back, mask.image);
    }

    #[test]
    fn jpeg_and_webp_are_read_too_and_give_the_same_regions() {
        for format in [ImageFormat::Jpeg, ImageFormat::WebP] {
            let mask =
                mask_of_encoded(&encode(DynamicImage::ImageRgb8(two_squares()), format)).unwrap();
            assert_eq!(mask.regions.len(), 2, "{format:?}");
            let area = mask.regions[0].area;
            assert!((380..=420).contains(&area), "{format:?} {area}");
        }
    }

    #[test]
    fn the_same_image_gives_the_same_mask() {
        let bytes = encode(DynamicImage::ImageRgb8(two_squares()), ImageFormat::Png);
        assert_eq!(
            mask_of_encoded(&bytes).unwrap().to_png(),
            mask_of_encoded(&bytes).unwrap().to_png()
        );
    }

    #[test]
    fn a_uniform_image_has_an_empty_mask() {
        let flat = GrayImage::from_pixel(8, 8, Luma([128]));
        let mask = mask_of_luma(&flat);
        assert!(mask.regions.is_empty());
        assert!(mask.image.pixels().all(|p| p.0[0] == 0));
    }

    #[test]
    fn what_is_not_an_image_is_undecodable() {
        for bytes in [
            &b"not an image at all"[..],
            b"",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRbroken",
        ] {
            assert!(
                matches!(mask_of_encoded(bytes), Err(MaskError::Undecodable(_))),
                "{bytes:?}"
            );
        }
        // A GIF is an image, but not one the `images` bucket takes.
        assert!(matches!(
            mask_of_encoded(b"GIF89a\x01\x00\x01\x00"),
            Err(MaskError::Undecodable(_))
        ));
    }
}

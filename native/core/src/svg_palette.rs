//! The SVG frame writer's fills: `palette`'s colours (written once there, for the viewer too)
//! as the `rgb(r,g,b)` text `foldkit.render.palette.frame_color` gives.

pub use crate::palette::{knows, without_annotation};

use crate::folded::text::decimal;

/// The (r, g, b) of a frame called `name` (ASCII) in `palette` (one `knows` accepts).
pub fn frame_rgb(name: &[u8], palette: &str, hash_start: bool) -> [u8; 3] {
    crate::palette::rgb(name, palette, hash_start)
}

/// The fill of a frame called `name` (ASCII) in `palette` (one `knows` accepts), as
/// `palette.frame_color`.
pub fn frame_color(name: &[u8], palette: &str, hash_start: bool) -> String {
    let mut fill = String::with_capacity(16);
    fill.push_str("rgb(");
    for (i, channel) in crate::palette::rgb(name, palette, hash_start)
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            fill.push(',');
        }
        let mut buf = [0u8; 48];
        fill.push_str(
            std::str::from_utf8(decimal(i128::from(channel), &mut buf)).unwrap_or_default(),
        );
    }
    fill.push(')');
    fill
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_as_python_writes_them() {
        // foldkit.render.palette.frame_color(name, palette, hash_start)
        assert_eq!(frame_color(b"main", "default", false), "rgb(215,72,72)");
        assert_eq!(frame_color(b"read_[k]", "default", false), "rgb(218,118,0)");
        assert_eq!(frame_color(b"main", "hot", true), "rgb(226,164,24)");
        assert_eq!(frame_color(b"a_[w]", "chain", false), "rgb(65,179,179)");
    }
}

//! `view(&model, frame)`: draws the model, and only draws.

pub mod layout;
pub mod log;
pub mod ring;
pub mod status;
pub mod story;
pub mod style;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::model::Model;

/// Draws one frame of the live view.
pub fn view(model: &Model, frame: &mut Frame) {
    let area = frame.area();
    render(model, area, frame.buffer_mut());
}

/// Draws the model into `buf` (what [`view`] does, for a buffer of one's own).
pub fn render(model: &Model, area: Rect, buf: &mut Buffer) {
    let mut model_at = std::borrow::Cow::Borrowed(model);
    if model.size != (area.width, area.height) {
        model_at.to_mut().size = (area.width, area.height);
    }
    let model = model_at.as_ref();
    let Some(areas) = layout::areas(model) else {
        status::too_small(area, buf, layout::MIN_SIZE);
        return;
    };
    status::status_line(model, areas.status, buf);
    if let Some(cluster) = areas.cluster {
        ring::draw(model, cluster, buf);
    }
    if let Some(story) = areas.story {
        story::draw(model, story, buf);
    }
    if let Some(log) = areas.log {
        log::draw(model, log, buf);
    }
    status::keys_line(model, areas.keys, buf);
    if model.help {
        status::help(area, buf);
    }
}

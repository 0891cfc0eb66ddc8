"""Personal data masks: what stays visible, and that nothing else does."""
import pandas as pd

from cubes.pii import mask_frame, mask_id_number, mask_name, mask_phone


def test_individual_name_keeps_the_surname_only():
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"


def test_company_name_keeps_two_characters_at_each_end():
    assert mask_name("上海华信科技有限公司") == "上海******公司"


def test_phone_keeps_prefix_and_last_four():
    assert mask_phone("13812345678") == "138****5678"


def test_id_number_keeps_region_code_and_last_four():
    assert mask_id_number("11010119800101123X") == "110101********123X"


def test_short_values_are_masked_entirely():
    assert mask_phone("12345") == "*****"
    assert mask_id_number("123456789") == "*********"


def test_frame_masks_named_columns_and_keeps_missing_values():
    frame = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["李四", None],
                          "holder": ["王小明", "赵六"], "phone": ["13900001111", None]})
    masked = mask_frame(frame, {"holder": "name"})
    assert masked["customer_id"].tolist() == ["C1", "C2"]
    assert masked["name"].iloc[0] == "李*" and pd.isna(masked["name"].iloc[1])
    assert masked["holder"].tolist() == ["王**", "赵*"]
    assert masked["phone"].iloc[0] == "139****1111"
    assert frame["name"].iloc[0] == "李四"  # the original is untouched
